/// The one Base64 rule for bytes in JSON (array and variant fields; docs/codec.md, "Base64"):
///
/// - the standard alphabet of RFC 4648 §4, `A–Z a–z 0–9 + /`; nothing else, so no spaces, line
///   breaks or the URL-safe `-` and `_`;
/// - `=` padding is optional, but when present it is exactly what completes the last group of
///   four (`AQ` and `AQ==` are one byte; `AQ=`, `AQ===` and `=====` are refused);
/// - the bits the last character carries beyond the last byte are zero (RFC 4648 §3.5), so a
///   byte string has one spelling (`AQ`, never `AR`);
/// - the empty string is no bytes.
///
/// Foundation's decoder is not used: it takes `=====` as one 00 byte and refuses `AQ`.
public enum StrictBase64 {
    /// The bytes `text` spells, or nil when it breaks the rule.
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        var end = characters.count
        while end > 0, characters[end - 1] == UInt8(ascii: "=") { end -= 1 }
        let padding = characters.count - end
        let remainder = end % 4
        // A lone character carries 6 bits, less than a byte.
        if remainder == 1 { return nil }
        if padding > 0, padding != 4 - remainder || remainder == 0 { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end / 4 * 3 + 2)
        var group: UInt32 = 0
        var filled = 0
        for index in 0..<end {
            guard let value = Self.value(characters[index]) else { return nil }
            group = group << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                bytes.append(UInt8(truncatingIfNeeded: group >> 16))
                bytes.append(UInt8(truncatingIfNeeded: group >> 8))
                bytes.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        switch filled {
        case 2:   // 12 bits: one byte and 4 unused bits
            guard group & 0xF == 0 else { return nil }
            bytes.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:   // 18 bits: two bytes and 2 unused bits
            guard group & 0x3 == 0 else { return nil }
            bytes.append(UInt8(truncatingIfNeeded: group >> 10))
            bytes.append(UInt8(truncatingIfNeeded: group >> 2))
        default:
            break
        }
        return bytes
    }

    private static func value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
