import Foundation
import GatewayCore

/// Turns a point's registers (or bit) into the property value and back. Pure.
public enum PointCodec {
    public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Fewer registers than the type needs (a short read).
        case short(needed: Int, got: Int)
        /// A float register holds NaN or infinity, which JSON cannot carry.
        case notFinite

        public var description: String {
            switch self {
            case .short(let needed, let got): "needs \(needed) registers, got \(got)"
            case .notFinite: "the float is NaN or infinite, which JSON cannot carry"
            }
        }
    }

    public enum EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
        case wrongType(expected: String, got: String)
        case outOfRange(value: String, type: ModbusDataType)
        case tooLong(bytes: Int, max: Int)
        case notASCII

        public var description: String {
            switch self {
            case .wrongType(let expected, let got): "expected \(expected), got \(got)"
            case .outOfRange(let value, let type): "\(value) does not fit a \(type.rawValue) register value"
            case .tooLong(let bytes, let max): "text of \(bytes) bytes is longer than the \(max) the point holds"
            case .notASCII: "text must be ASCII"
            }
        }
    }

    // MARK: - Decoding

    /// The value of a bit-table point.
    public static func decode(point: ModbusPoint, bit: Bool) -> JSONValue { .bool(bit) }

    /// The value of a register point from its registers, in the order they were read.
    public static func decode<Words: RandomAccessCollection>(point: ModbusPoint, registers: Words) -> Result<JSONValue, DecodeError>
    where Words.Element == UInt16 {
        let needed = point.type.registerCount(stringLength: point.length)
        guard registers.count >= needed, let first = registers.first else {
            return .failure(.short(needed: needed, got: registers.count))
        }
        switch point.type {
        case .bool:
            return .success(.bool(first != 0))
        case .bit:
            return .success(.bool(first & (1 << UInt16(point.bit)) != 0))
        case .string:
            return .success(.string(decodeString(Array(registers.prefix(needed)), swapBytes: point.order.swapsBytes)))
        case .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64:
            return number(raw: bigEndianBits(registers, count: needed, order: point.order), point: point)
        }
    }

    /// The first `count` registers as one big-endian integer of 16 × count bits, after undoing the byte order.
    static func bigEndianBits<Words: RandomAccessCollection>(_ words: Words, count: Int, order: ModbusByteOrder) -> UInt64
    where Words.Element == UInt16 {
        var bits: UInt64 = 0
        for i in 0..<count {
            let word = words[words.index(words.startIndex, offsetBy: order.swapsWords ? count - 1 - i : i)]
            bits = (bits << 16) | UInt64(order.swapsBytes ? word.byteSwapped : word)
        }
        return bits
    }

    static func number(raw: UInt64, point: ModbusPoint) -> Result<JSONValue, DecodeError> {
        let integer: Int64?
        let real: Double
        switch point.type {
        case .int16: let v = Int16(truncatingIfNeeded: raw); integer = Int64(v); real = Double(v)
        case .uint16: let v = UInt16(truncatingIfNeeded: raw); integer = Int64(v); real = Double(v)
        case .int32: let v = Int32(truncatingIfNeeded: raw); integer = Int64(v); real = Double(v)
        case .uint32: let v = UInt32(truncatingIfNeeded: raw); integer = Int64(v); real = Double(v)
        case .int64: let v = Int64(bitPattern: raw); integer = v; real = Double(v)
        case .uint64: integer = raw <= UInt64(Int64.max) ? Int64(raw) : nil; real = Double(raw)
        case .float32:
            // The float's shortest decimal form: 230.1 as the meter meant it, not 230.10000610351562.
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: raw))
            integer = nil
            real = Double(f.description) ?? Double(f)
        case .float64: integer = nil; real = Double(bitPattern: raw)
        default: integer = nil; real = 0
        }
        if point.isUnscaled, let integer { return .success(.int(integer)) }
        // Above Int64.max: still an exact integer, never a rounded double.
        if point.isUnscaled, point.type == .uint64 { return .success(.integer(raw)) }
        let value = scaled(real, by: point.scale) + point.offset
        guard value.isFinite else { return .failure(.notFinite) }
        return .success(.double(value))
    }

    /// `raw × scale`; a scale of 0.1, 0.01, … divides by 10, 100, …, so 5005 × 0.01 is 50.05 and
    /// not 50.050000000000004.
    static func scaled(_ raw: Double, by scale: Double) -> Double {
        if scale > 0, scale < 1 {
            let divisor = (1 / scale).rounded()
            if abs(divisor * scale - 1) < 1e-12 { return raw / divisor }
        }
        return raw * scale
    }

    /// ASCII text up to the first NUL, trailing spaces dropped; other bytes become "?".
    static func decodeString(_ words: [UInt16], swapBytes: Bool) -> String {
        var bytes: [UInt8] = []
        for word in words {
            let high = UInt8(word >> 8), low = UInt8(word & 0xFF)
            bytes.append(contentsOf: swapBytes ? [low, high] : [high, low])
        }
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        while bytes.last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes.map { $0 < 0x80 && ($0 >= 0x20 || $0 == 0x09) ? $0 : 0x3F }, as: UTF8.self)
    }

    // MARK: - Encoding

    /// The state to write to a coil, or to set in a `bit` point's register.
    public static func encodeBit(_ value: JSONValue) -> Result<Bool, EncodeError> {
        if let b = value.boolValue { return .success(b) }
        if let i = value.intValue, i == 0 || i == 1 { return .success(i == 1) }
        return .failure(.wrongType(expected: "a boolean (or 0/1)", got: value.typeName))
    }

    /// The registers to write for a register point (not `bit`: that needs the register's other bits).
    public static func encode(point: ModbusPoint, value: JSONValue) -> Result<[UInt16], EncodeError> {
        switch point.type {
        case .bool, .bit:
            return encodeBit(value).map { [$0 ? 1 : 0] }
        case .string:
            guard let text = value.stringValue else { return .failure(.wrongType(expected: "a string", got: value.typeName)) }
            let bytes = Array(text.utf8)
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return .failure(.notASCII) }
            guard bytes.count <= point.length * 2 else { return .failure(.tooLong(bytes: bytes.count, max: point.length * 2)) }
            let padded = bytes + [UInt8](repeating: 0, count: point.length * 2 - bytes.count)
            return .success(stride(from: 0, to: padded.count, by: 2).map { i in
                let (first, second) = (UInt16(padded[i]), UInt16(padded[i + 1]))
                return point.order.swapsBytes ? (second << 8 | first) : (first << 8 | second)
            })
        case .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64:
            return rawBits(point: point, value: value).map { registers(bits: $0, point: point) }
        }
    }

    static func rawBits(point: ModbusPoint, value: JSONValue) -> Result<UInt64, EncodeError> {
        if point.type.isFloat {
            guard let v = value.doubleValue else { return .failure(.wrongType(expected: "a number", got: value.typeName)) }
            let raw = (v - point.offset) / point.scale
            if point.type == .float64 { return .success(raw.bitPattern) }
            // Whether it rounds to a finite float, not whether it is within the largest float as
            // a double: the decoder gives the float's shortest decimal, and that of the largest,
            // 3.4028235e38, is a little above it.
            let single = Float(raw)
            guard raw.isNaN || single.isFinite else {
                return .failure(.outOfRange(value: "\(v)", type: point.type))
            }
            return .success(UInt64(single.bitPattern))
        }
        // Integers: unscaled integers keep all 64 bits; anything else goes through Double.
        if point.isUnscaled, case .int(let i) = value { return integerBits(i, point: point, text: "\(i)") }
        if point.isUnscaled, case .uint(let u) = value {
            guard point.type == .uint64 else { return .failure(.outOfRange(value: "\(u)", type: point.type)) }
            return .success(u)
        }
        guard let v = value.doubleValue else { return .failure(.wrongType(expected: "a number", got: value.typeName)) }
        let raw = ((v - point.offset) / point.scale).rounded()
        guard raw.isFinite, raw >= -9.223372036854775808e18, raw < 9.223372036854775808e18 else {
            if point.type == .uint64, raw >= 0, raw < 1.8446744073709551616e19 { return .success(UInt64(raw)) }
            return .failure(.outOfRange(value: "\(v)", type: point.type))
        }
        return integerBits(Int64(raw), point: point, text: "\(v)")
    }

    static func integerBits(_ i: Int64, point: ModbusPoint, text: String) -> Result<UInt64, EncodeError> {
        let fits: Bool
        switch point.type {
        case .int16: fits = Int64(Int16.min)...Int64(Int16.max) ~= i
        case .uint16: fits = 0...Int64(UInt16.max) ~= i
        case .int32: fits = Int64(Int32.min)...Int64(Int32.max) ~= i
        case .uint32: fits = 0...Int64(UInt32.max) ~= i
        case .uint64: fits = i >= 0
        default: fits = true
        }
        guard fits else { return .failure(.outOfRange(value: text, type: point.type)) }
        return .success(UInt64(bitPattern: i))
    }

    /// Splits the low 16 × count bits into registers in the point's byte and word order.
    static func registers(bits: UInt64, point: ModbusPoint) -> [UInt16] {
        let count = point.type.registerCount(stringLength: point.length)
        var words = (0..<count).map { i in UInt16(truncatingIfNeeded: bits >> UInt64(16 * (count - 1 - i))) }
        if point.order.swapsBytes { words = words.map { $0.byteSwapped } }
        if point.order.swapsWords { words.reverse() }
        return words
    }
}
