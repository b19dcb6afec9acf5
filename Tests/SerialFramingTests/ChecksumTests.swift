import GatewayCore
import Testing
@testable import SerialFraming

@Suite struct ChecksumTests {
    static let check = Array("123456789".utf8)

    /// The CRC catalogue's check values (reveng.sourceforge.io), and the sums worked by hand.
    @Test(arguments: [
        (ChecksumType.crc16Modbus, UInt32(0x4B37)), (.crc16CCITTFalse, 0x29B1), (.crc16XModem, 0x31C3),
        (.crc16X25, 0x906E), (.crc16Kermit, 0x2189), (.crc32, 0xCBF4_3926), (.sum8, 0xDD), (.xor8, 0x31), (.lrc, 0x23),
    ])
    func checkValue(type: ChecksumType, expected: UInt32) {
        #expect(type.compute(Self.check[...]) == expected)
        #expect(Self.check.withUnsafeBufferPointer { type.compute($0) } == expected)
    }

    @Test func sizesAndDefaultOrders() {
        #expect(ChecksumType.allCases.map(\.size) == [2, 2, 2, 2, 2, 4, 1, 1, 1])
        #expect(ChecksumType.crc16Modbus.defaultOrder == .little)
        #expect(ChecksumType.allCases.filter { $0.defaultOrder == .little } == [.crc16Modbus, .crc16X25, .crc16Kermit])
    }

    @Test func emptyInputIsTheInitialValueFinished() {
        #expect(ChecksumType.crc16Modbus.compute([][...]) == 0xFFFF)
        #expect(ChecksumType.crc16XModem.compute([][...]) == 0)
        #expect(ChecksumType.crc16X25.compute([][...]) == 0)
        #expect(ChecksumType.crc32.compute([][...]) == 0)
        #expect(ChecksumType.lrc.compute([][...]) == 0)
    }

    /// A slice in the middle of an array: only its own bytes are covered.
    @Test func sliceCoversItsOwnBytes() {
        let framed = [0xFF, 0xFF] + Self.check + [0xFF]
        #expect(ChecksumType.crc32.compute(framed[2..<11]) == 0xCBF4_3926)
    }

    /// The Modbus RTU request "read 10 holding registers from 0 at unit 1", as every Modbus
    /// document prints it: CRC 0xCDC5, low byte first.
    @Test func modbusRequestFrame() throws {
        let spec = try FramingSpec(fixedLength: 8, checksum: .init(type: .crc16Modbus))
        let wire = try FrameEncoder(spec: spec).encode(payload: Fixture.bytes("01 03 00 00 00 0A"))
        #expect(wire == Fixture.bytes("01 03 00 00 00 0A C5 CD"))
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect(framer.feed(wire).frames.map(\.bytes) == [wire])
    }

    /// Each type's trailer in its default order and in the other one.
    @Test(arguments: ChecksumType.allCases)
    func wireOrder(type: ChecksumType) throws {
        let payload = Self.check
        let value = type.compute(payload[...])
        for order in ByteOrder.allCases {
            let spec = try FramingSpec(start: [0x02], end: [0x03], checksum: .init(type: type, order: order))
            let wire = try FrameEncoder(spec: spec).encode(payload: payload)
            let trailer = Array(wire.dropLast().suffix(type.size))
            var expected = (0..<type.size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
            if order == .big { expected.reverse() }
            #expect(trailer == expected, "\(type) \(order)")
            var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
            #expect(Array(framer.feed(wire).frames.first?.payload ?? []) == payload)
        }
        // Without `order`, the type's own.
        let spec = try FramingSpec(start: [0x02], end: [0x03], checksum: .init(type: type))
        #expect(spec.checksum?.order == type.defaultOrder)
    }

    /// `from` moves the covered range: here the start bytes are covered too.
    @Test func coverageStartsAtFrom() throws {
        let spec = try FramingSpec(start: [0xAA, 0x55], fixedLength: 6, checksum: .init(type: .xor8, from: 0))
        let wire = try FrameEncoder(spec: spec).encode(payload: [0x01, 0x02, 0x04])
        #expect(wire == [0xAA, 0x55, 0x01, 0x02, 0x04, 0xAA ^ 0x55 ^ 0x07])
        let defaultSpec = try FramingSpec(start: [0xAA, 0x55], fixedLength: 6, checksum: .init(type: .xor8))
        #expect(try FrameEncoder(spec: defaultSpec).encode(payload: [0x01, 0x02, 0x04]).last == 0x07)
    }

    /// LRC: the covered bytes and the check sum to zero.
    @Test func lrcMakesTheSumZero() throws {
        let spec = try FramingSpec(start: [0x3A], end: [0x0D, 0x0A], checksum: .init(type: .lrc))
        let wire = try FrameEncoder(spec: spec).encode(payload: [0x11, 0x03, 0x00, 0x6B, 0x00, 0x03])
        #expect(wire[1..<(wire.count - 2)].reduce(0 as UInt8, &+) == 0)
        #expect(wire[wire.count - 3] == 0x7E)
    }
}
