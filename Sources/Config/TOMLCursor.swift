/// The bytes of a TOML text and a position in them.
///
/// `init` checks the whole text first: UTF-8, no control character but tab and line feed,
/// carriage return only before a line feed (TOML allows no other anywhere, comments and strings
/// included). Past that, the scanner may assume those. Every read goes through `peek`, which
/// answers `nil` outside the text, so no input can index out of bounds.
struct TOMLCursor {
    static let lineFeed: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20, tab: UInt8 = 0x09

    let bytes: [UInt8]
    /// Offset of the first byte of every line.
    private var lineStarts: [Int] = [0]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) throws(TOMLSyntaxError) {
        self.bytes = bytes
        let count = bytes.count
        var i = 0
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {  // byte order mark
            i = 3
            offset = 3
            lineStarts = [3]
        }
        while i < count {
            let byte = bytes[i]
            if byte < 0x80 {
                switch byte {
                case Self.lineFeed: lineStarts.append(i + 1)
                case Self.carriageReturn:
                    guard i + 1 < count, bytes[i + 1] == Self.lineFeed else { throw error(.loneCarriageReturn, at: i) }
                case Self.tab: break
                case 0..<0x20, 0x7F: throw error(.controlCharacter(byte), at: i)
                default: break
                }
                i += 1
                continue
            }
            let length = Self.sequenceLength(bytes, at: i)
            guard length > 0 else { throw error(.invalidUTF8(byte: byte), at: i) }
            i += length
        }
    }

    /// Length of the well-formed UTF-8 sequence at `i` (2...4), or 0 (RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF).
    private static func sequenceLength(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF   // range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= bytes.count else { return 0 }
        guard (low...high).contains(bytes[i + 1]) else { return 0 }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return 0 }
        return length
    }

    // MARK: - Positions

    /// 1-based line of an offset.
    func line(at position: Int) -> Int {
        var low = 0, high = lineStarts.count - 1   // the last start <= position
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= position { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    func error(_ kind: TOMLSyntaxError.Kind, at position: Int) -> TOMLSyntaxError {
        let position = min(max(position, 0), bytes.count)
        let line = line(at: position)
        let start = min(lineStarts[line - 1], position)
        // Characters before the position: bytes that do not continue a UTF-8 sequence.
        let column = bytes[start..<position].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return TOMLSyntaxError(kind, line: line, column: column)
    }

    func error(_ kind: TOMLSyntaxError.Kind) -> TOMLSyntaxError { error(kind, at: offset) }

    /// `expected X, found <what is here>`.
    func unexpected(_ expected: String) -> TOMLSyntaxError { error(.unexpected(found: found, expected: expected)) }

    /// What is at the position, for messages: `'x'`, `end of line`, `end of file`.
    var found: String {
        guard let byte = peek() else { return "end of file" }
        if byte == Self.lineFeed || byte == Self.carriageReturn { return "end of line" }
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'\(String(decoding: bytes[offset..<end], as: UTF8.self))'"
    }

    // MARK: - Reading

    var atEnd: Bool { offset >= bytes.count }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let i = offset + ahead
        return i >= 0 && i < bytes.count ? bytes[i] : nil
    }

    mutating func advance(_ count: Int = 1) { offset = min(offset + max(count, 0), bytes.count) }

    /// Advances past `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        advance()
        return true
    }

    func next(_ byte: UInt8, count: Int) -> Bool { (0..<count).allSatisfy { peek($0) == byte } }

    func text(_ range: Range<Int>) -> String {
        let low = min(max(0, range.lowerBound), bytes.count)
        return String(decoding: bytes[low..<max(low, min(range.upperBound, bytes.count))], as: UTF8.self)
    }

    mutating func skipSpaces() {
        while let byte = peek(), byte == Self.space || byte == Self.tab { advance() }
    }

    /// A `#` comment up to (not including) the end of the line.
    mutating func skipComment() {
        guard peek() == UInt8(ascii: "#") else { return }
        while let byte = peek(), byte != Self.lineFeed, byte != Self.carriageReturn { advance() }
    }

    /// `\n` or `\r\n` (a lone `\r` cannot get here).
    mutating func takeNewline() -> Bool {
        if peek() == Self.lineFeed { advance(); return true }
        if peek() == Self.carriageReturn, peek(1) == Self.lineFeed { advance(2); return true }
        return false
    }

    var atNewline: Bool { peek() == Self.lineFeed || (peek() == Self.carriageReturn && peek(1) == Self.lineFeed) }

    /// Spaces, comments and newlines, as between the values of an array.
    mutating func skipBlank() {
        while true {
            skipSpaces()
            skipComment()
            if !takeNewline() { return }
        }
    }

    /// The end of a line: spaces, an optional comment, then a newline or the end of the text.
    mutating func expectLineEnd() throws(TOMLSyntaxError) {
        skipSpaces()
        skipComment()
        if atEnd || takeNewline() { return }
        throw unexpected("the end of the line")
    }
}
