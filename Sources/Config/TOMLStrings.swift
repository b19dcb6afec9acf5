/// TOML's four kinds of strings: "basic", 'literal', """multi-line basic""" and '''multi-line literal'''.
extension TOMLCursor {
    static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")

    /// A string of any kind; the cursor is on its opening quote.
    mutating func string(allowMultiline: Bool = true) throws(TOMLSyntaxError) -> String {
        guard let delimiter = peek(), delimiter == Self.quote || delimiter == Self.apostrophe else {
            throw unexpected("a string")
        }
        if next(delimiter, count: 3) {
            guard allowMultiline else { throw error(.multilineKey) }
            return try multilineString(delimiter)
        }
        let start = offset
        advance()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error(.unterminatedString(multiline: false), at: start) }
            switch byte {
            case delimiter:
                advance()
                return String(decoding: out, as: UTF8.self)
            case Self.lineFeed, Self.carriageReturn:
                throw error(.newlineInString)
            case Self.backslash where delimiter == Self.quote:
                try escape(into: &out)
            default:
                out.append(byte)
                advance()
            }
        }
    }

    /// A multi-line string: a newline right after the opening quotes is dropped, CRLF is read as LF,
    /// and up to two quotes may end the text just before the closing three.
    private mutating func multilineString(_ delimiter: UInt8) throws(TOMLSyntaxError) -> String {
        let start = offset
        advance(3)
        _ = takeNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error(.unterminatedString(multiline: true), at: start) }
            if byte == delimiter, next(delimiter, count: 3) {
                var run = 3
                while run < 5, peek(run) == delimiter { run += 1 }
                out.append(contentsOf: repeatElement(delimiter, count: run - 3))
                advance(run)
                return String(decoding: out, as: UTF8.self)
            }
            if takeNewline() {
                out.append(Self.lineFeed)
            } else if byte == Self.backslash, delimiter == Self.quote {
                if lineEndingBackslash() { continue }
                try escape(into: &out)
            } else {
                out.append(byte)
                advance()
            }
        }
    }

    /// `\` then only spaces up to the end of the line: skips it all up to the next text.
    private mutating func lineEndingBackslash() -> Bool {
        var ahead = 1
        while let byte = peek(ahead), byte == Self.space || byte == Self.tab { ahead += 1 }
        let newline = peek(ahead) == Self.lineFeed || (peek(ahead) == Self.carriageReturn && peek(ahead + 1) == Self.lineFeed)
        guard newline else { return false }
        advance(ahead)
        while true {
            skipSpaces()
            if !takeNewline() { return true }
        }
    }

    /// An escape in a basic string; the cursor is on the backslash.
    private mutating func escape(into out: inout [UInt8]) throws(TOMLSyntaxError) {
        let start = offset
        advance()
        guard let letter = peek() else { throw error(.unterminatedString(multiline: false), at: start) }
        let simple: UInt8?
        switch letter {
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = 0x0D
        case Self.quote, Self.backslash: simple = letter
        case UInt8(ascii: "u"), UInt8(ascii: "U"): simple = nil
        case Self.lineFeed, Self.carriageReturn: throw error(.invalidEscape("\\"), at: start)
        default:
            advance()
            while let byte = peek(), byte & 0xC0 == 0x80 { advance() }   // the rest of a non-ASCII character
            throw error(.invalidEscape(text(start..<offset)), at: start)
        }
        if let simple {
            out.append(simple)
            advance()
            return
        }
        let digits = letter == UInt8(ascii: "u") ? 4 : 8
        var value: UInt32 = 0
        for k in 1...digits {
            guard let byte = peek(k), let digit = Self.hexValue(byte) else {
                advance(k)
                throw error(.invalidEscape(text(start..<offset)), at: start)
            }
            value = value << 4 | UInt32(digit)
        }
        advance(digits + 1)
        guard let scalar = Unicode.Scalar(value) else { throw error(.invalidEscape(text(start..<offset)), at: start) }
        out.append(contentsOf: String(Character(scalar)).utf8)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
