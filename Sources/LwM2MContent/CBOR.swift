/// The part of CBOR (RFC 8949) that SenML-CBOR (RFC 8428 §6) uses: integers, byte and text
/// strings, arrays, maps, booleans, null and floats. Pure: bytes in, values out.
///
/// Integers are those an `Int64` holds (LwM2M's integers are 64-bit signed); a wider one is
/// refused when decoding rather than rounded.
public indirect enum CBOR: Equatable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Entries in the order they were read or are to be written (SenML's order matters to a
    /// reader of the bytes, and keys are compared, not hashed).
    case map([Entry])
    case boolean(Bool)
    case null
    case float(Double)

    public struct Entry: Equatable, Sendable {
        public var key: CBOR
        public var value: CBOR
        public init(_ key: CBOR, _ value: CBOR) {
            self.key = key
            self.value = value
        }
    }

    /// How deep arrays and maps may nest when decoding (SenML needs two levels).
    public static let maxDepth = 16
}

/// Why bytes are not the CBOR this decoder reads; `offset` is where the item in question starts.
public enum CBORError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end inside an item, or a length says more than is left.
    case truncated(offset: Int)
    /// Arrays and maps nest deeper than `CBOR.maxDepth`.
    case tooDeep(offset: Int)
    /// Something CBOR allows that SenML has no use for (reserved additional information,
    /// simple values other than false/true/null/undefined) or a misplaced "break".
    case unsupported(offset: Int, initialByte: UInt8)
    /// An integer outside `Int64`.
    case integerOutOfRange(offset: Int)
    /// A text string that is not UTF-8.
    case invalidUTF8(offset: Int)
    /// Bytes left after the one top-level item.
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): "CBOR ends inside the item at byte \(offset)"
        case .tooDeep(let offset): "CBOR nests deeper than \(CBOR.maxDepth) at byte \(offset)"
        case .unsupported(let offset, let byte): "CBOR item at byte \(offset) (initial byte \(byte)) is not one SenML uses"
        case .integerOutOfRange(let offset): "CBOR integer at byte \(offset) does not fit 64-bit signed"
        case .invalidUTF8(let offset): "CBOR text at byte \(offset) is not UTF-8"
        case .trailingBytes(let offset): "CBOR has bytes after its item, from byte \(offset)"
        }
    }
}

extension CBOR {
    /// The item's bytes: every length definite, every argument in its shortest form, floats in
    /// the shortest of half, single and double precision that holds the value exactly.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    func append(to out: inout [UInt8]) {
        switch self {
        case .integer(let value):
            // Major type 1 carries -1 - n, which is the bitwise complement of a negative value.
            if value >= 0 { Self.head(0, UInt64(value), &out) } else { Self.head(1, UInt64(~value), &out) }
        case .bytes(let bytes):
            Self.head(2, UInt64(bytes.count), &out)
            out.append(contentsOf: bytes)
        case .text(let text):
            let utf8 = Array(text.utf8)
            Self.head(3, UInt64(utf8.count), &out)
            out.append(contentsOf: utf8)
        case .array(let items):
            Self.head(4, UInt64(items.count), &out)
            for item in items { item.append(to: &out) }
        case .map(let entries):
            Self.head(5, UInt64(entries.count), &out)
            for entry in entries {
                entry.key.append(to: &out)
                entry.value.append(to: &out)
            }
        case .boolean(let value):
            out.append(value ? 0xF5 : 0xF4)
        case .null:
            out.append(0xF6)
        case .float(let value):
            if let half = CBORFloat.halfBits(value) {
                out.append(0xF9)
                Self.bigEndian(UInt64(half), size: 2, &out)
            } else if let single = Float(exactly: value) {
                out.append(0xFA)
                Self.bigEndian(UInt64(single.bitPattern), size: 4, &out)
            } else {
                out.append(0xFB)
                Self.bigEndian(value.bitPattern, size: 8, &out)
            }
        }
    }

    static func head(_ major: UInt8, _ argument: UInt64, _ out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xFF: out.append(type | 24); bigEndian(argument, size: 1, &out)
        case 0x100...0xFFFF: out.append(type | 25); bigEndian(argument, size: 2, &out)
        case 0x10000...0xFFFF_FFFF: out.append(type | 26); bigEndian(argument, size: 4, &out)
        default: out.append(type | 27); bigEndian(argument, size: 8, &out)
        }
    }

    static func bigEndian(_ value: UInt64, size: Int, _ out: inout [UInt8]) {
        for shift in stride(from: (size - 1) * 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}

/// IEEE 754 half precision, which CBOR uses for short floats; done by hand because `Float16` is
/// not on every platform Swift builds for.
enum CBORFloat {
    /// The half-precision bits of `value` when it holds it exactly; nil otherwise.
    static func halfBits(_ value: Double) -> UInt16? {
        if value.isNaN { return 0x7E00 }
        let sign: UInt16 = value.sign == .minus ? 0x8000 : 0
        if value.isInfinite { return sign | 0x7C00 }
        if value == 0 { return sign }
        let magnitude = value.magnitude
        let exponent = Int(magnitude.exponent)
        if exponent >= -14 && exponent <= 15 {
            // Normal: 1.f × 2^e with ten fraction bits.
            let scaled = magnitude.significand * 1024
            guard scaled == scaled.rounded(.towardZero) else { return nil }
            return sign | UInt16(exponent + 15) << 10 | (UInt16(scaled) - 1024)
        }
        if exponent >= -24 && exponent < -14 {
            // Subnormal: m × 2^-24.
            let scaled = magnitude * 0x1p24
            guard scaled == scaled.rounded(.towardZero) else { return nil }
            return sign | UInt16(scaled)
        }
        return nil
    }

    static func fromHalf(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
