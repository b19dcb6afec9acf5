import Foundation
import GatewayCore
@testable import Modbus

/// Register layouts computed byte by byte from the big-endian bytes of a value, written
/// independently of `PointCodec` so the tests check it rather than repeat it.
enum RegisterLayout {
    static func registers(bigEndian bytes: [UInt8], order: ModbusByteOrder) -> [UInt16] {
        let ordered: [UInt8]
        switch order {
        case .abcd: ordered = bytes
        case .dcba: ordered = bytes.reversed()
        case .cdab:   // words in reverse order, each word big-endian
            ordered = stride(from: bytes.count - 2, through: 0, by: -2).flatMap { [bytes[$0], bytes[$0 + 1]] }
        case .badc:   // words in order, bytes swapped within each
            ordered = stride(from: 0, to: bytes.count, by: 2).flatMap { [bytes[$0 + 1], bytes[$0]] }
        }
        return stride(from: 0, to: ordered.count, by: 2).map { UInt16(ordered[$0]) << 8 | UInt16(ordered[$0 + 1]) }
    }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A sample value of every numeric type, its big-endian bytes and the JSON the codec must give.
    static let samples: [(type: ModbusDataType, bytes: [UInt8], json: JSONValue)] = [
        (.int16, bytes(Int16(-12345)), .int(-12345)),
        (.uint16, bytes(UInt16(54321)), .int(54321)),
        (.int32, bytes(Int32(-123_456_789)), .int(-123_456_789)),
        (.uint32, bytes(UInt32(3_987_654_321)), .int(3_987_654_321)),
        (.int64, bytes(Int64(-1_234_567_890_123_456)), .int(-1_234_567_890_123_456)),
        (.uint64, bytes(UInt64(9_007_199_254_740_993)), .int(9_007_199_254_740_993)),
        (.float32, bytes(Float(230.25).bitPattern), .double(230.25)),
        (.float64, bytes(Double(-98765.4321).bitPattern), .double(-98765.4321)),
    ]
}

func point(_ name: String = "p", table: ModbusTable = .holding, address: Int = 0, type: ModbusDataType,
           order: ModbusByteOrder = .abcd, bit: Int = 0, length: Int = 1, scale: Double = 1, offset: Double = 0,
           writable: Bool = true, service: String = "s") -> ModbusPoint {
    ModbusPoint(name: name, serviceId: service, property: name, table: table, address: address, type: type, order: order,
                bit: bit, length: length, scale: scale, offset: offset, writable: writable)
}
