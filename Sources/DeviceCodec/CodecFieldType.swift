import GatewayCore

/// The wire types of a codec field, named as the platform's online codec editor names them.
/// Every multi-byte number is big-endian: the platform has no little-endian option.
public enum CodecFieldType: String, Sendable, CaseIterable {
    case int8u, int16u, int24u, int32u
    case int8s, int16s, int24s, int32s
    case float, double
    /// ASCII text of a fixed `length`, padded with 0x00.
    case string
    /// ASCII text whose byte count is held by an earlier `length_field`.
    case varstring
    /// Bytes of a fixed `length`; Base64 in JSON.
    case array
    /// Bytes whose count is held by an earlier `length_field`; Base64 in JSON.
    case variant

    /// Bytes on the wire for fixed-size scalars; nil for the four types that take a length.
    public var scalarSize: Int? {
        switch self {
        case .int8u, .int8s: 1
        case .int16u, .int16s: 2
        case .int24u, .int24s: 3
        case .int32u, .int32s, .float: 4
        case .double: 8
        case .string, .varstring, .array, .variant: nil
        }
    }

    public var isInteger: Bool {
        switch self {
        case .int8u, .int16u, .int24u, .int32u, .int8s, .int16s, .int24s, .int32s: true
        default: false
        }
    }

    public var isSigned: Bool {
        switch self {
        case .int8s, .int16s, .int24s, .int32s: true
        default: false
        }
    }

    public var isFloatingPoint: Bool { self == .float || self == .double }
    /// string and varstring: ASCII in JSON.
    public var isText: Bool { self == .string || self == .varstring }
    /// array and variant: Base64 in JSON.
    public var isBytes: Bool { self == .array || self == .variant }
    /// varstring and variant: their length is another field's value.
    public var hasLengthField: Bool { self == .varstring || self == .variant }

    /// The values an integer type holds.
    public var integerRange: ClosedRange<Int64>? {
        guard isInteger, let size = scalarSize else { return nil }
        let bits = Int64(size * 8)
        if isSigned { return -(Int64(1) << (bits - 1))...((Int64(1) << (bits - 1)) - 1) }
        return 0...((Int64(1) << bits) - 1)
    }

    /// Reads an integer of this type from `size` big-endian bytes (sign-extended when signed).
    func integer(fromBigEndian raw: UInt64) -> Int64 {
        guard let size = scalarSize, isSigned else { return Int64(bitPattern: raw) }
        let bits = UInt64(size * 8)
        let signBit: UInt64 = 1 << (bits - 1)
        if raw & signBit != 0 { return Int64(bitPattern: raw | ~((signBit << 1) &- 1)) }
        return Int64(bitPattern: raw)
    }

    /// The big-endian bit pattern of an integer that fits this type.
    func bitPattern(of value: Int64) -> UInt64 {
        guard let size = scalarSize else { return 0 }
        let mask: UInt64 = size >= 8 ? .max : (1 << UInt64(size * 8)) &- 1
        return UInt64(bitPattern: value) & mask
    }
}

extension CodecFieldType {
    /// Which product-model property types a field of this type may map to: the platform's
    /// table (spec lwm2m-coap §6.3) — int ← int or array; decimal ← string, int or array;
    /// string, DateTime, jsonObject ← string or array — plus float/double for decimal, and
    /// integers for boolean (0 = false), which the product model editor also offers.
    public func canMap(to property: ProductModel.DataType) -> Bool {
        let isText = self.isText
        let isBytes = self.isBytes
        switch property {
        case .int: return isInteger || isBytes
        case .decimal: return isInteger || isFloatingPoint || isText || isBytes
        case .string, .dateTime, .jsonObject: return isText || isBytes
        case .boolean: return isInteger
        }
    }
}
