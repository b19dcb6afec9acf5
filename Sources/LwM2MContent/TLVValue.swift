/// A resource value in TLV (OMA-TS-LightweightM2M-V1_0 §6.4.3, Appendix C data types): integers
/// and times as the fewest of 1, 2, 4 or 8 bytes of big-endian two's complement, floats as 4 or 8
/// bytes IEEE 754, booleans as one byte 0 or 1, strings as UTF-8, object links as two 16-bit ids.
public enum TLVValue: Equatable, Sendable {
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case string(String)
    case opaque([UInt8])
    case objectLink(object: UInt16, instance: UInt16)

    public var bytes: [UInt8] {
        switch self {
        case .integer(let value):
            let size = Int8(exactly: value) != nil ? 1 : Int16(exactly: value) != nil ? 2 : Int32(exactly: value) != nil ? 4 : 8
            return (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        case .float(let value):
            if let single = Float(exactly: value) { return Self.bigEndian(UInt64(single.bitPattern), size: 4) }
            return Self.bigEndian(value.bitPattern, size: 8)
        case .boolean(let value):
            return [value ? 1 : 0]
        case .string(let value):
            return Array(value.utf8)
        case .opaque(let value):
            return value
        case .objectLink(let object, let instance):
            return [UInt8(object >> 8), UInt8(object & 0xFF), UInt8(instance >> 8), UInt8(instance & 0xFF)]
        }
    }

    private static func bigEndian(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}

extension TLV {
    /// The value as an integer: 1, 2, 4 or 8 bytes, sign-extended; nil for any other size.
    public var integer: Int64? {
        guard [1, 2, 4, 8].contains(value.count) else { return nil }
        // Sign from the first byte, then the rest shifted in.
        var result = Int64(Int8(bitPattern: value[0]))
        for byte in value.dropFirst() { result = result << 8 | Int64(byte) }
        return result
    }

    /// The value as a boolean: one byte, 0 or 1.
    public var boolean: Bool? {
        guard value.count == 1, value[0] <= 1 else { return nil }
        return value[0] == 1
    }

    /// The value as UTF-8 text; nil when it is not valid UTF-8.
    public var string: String? { String(validating: value, as: UTF8.self) }

    /// The value as a float: 4 or 8 bytes.
    public var float: Double? {
        let bits = value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch value.count {
        case 4: return Double(Float(bitPattern: UInt32(bits)))
        case 8: return Double(bitPattern: bits)
        default: return nil
        }
    }
}
