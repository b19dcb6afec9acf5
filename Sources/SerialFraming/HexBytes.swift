/// Byte sequences as device manuals print them: `"AA 55"`, `"aa55"`, `"0x7E"`.
public enum HexBytes {
    /// The bytes of `text`: pairs of hex digits, spaces between bytes allowed, an optional `0x`
    /// before each byte. Nil when anything else is there or a digit has no partner.
    public static func parse(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            var digits = Substring(word)
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
            guard !digits.isEmpty, digits.count % 2 == 0, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
            var index = digits.startIndex
            while index < digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
        }
        return bytes
    }

    /// `AA 55`: how a sequence is shown in messages.
    public static func text(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}
