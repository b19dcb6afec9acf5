/// The JSON (RFC 8259) SenML-JSON needs, read without Foundation: a strict reader whose errors
/// carry the byte offset, and the writing of strings and numbers.
indirect enum JSONValue {
    case string(String)
    case number(SenMLNumber)
    case boolean(Bool)
    case null
    case array([JSONValue])
    /// Members in the order written (duplicates are the caller's to refuse).
    case object([(String, JSONValue)])
}

struct JSONReader {
    /// Arrays and objects nest at most this deep (a SenML pack needs two).
    static let maxDepth = 16

    let bytes: [UInt8]
    var index = 0

    /// The one value in `bytes`, with only whitespace around it; on failure the byte offset.
    static func parse(_ bytes: [UInt8]) throws(SenMLError) -> JSONValue {
        var reader = JSONReader(bytes: bytes)
        guard let value = reader.value(depth: 0) else { throw .json(offset: min(reader.index, bytes.count)) }
        reader.skipSpace()
        guard reader.index == bytes.count else { throw .json(offset: reader.index) }
        return value
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    /// Consumes `literal` if the bytes go on with it.
    mutating func consume(_ literal: String) -> Bool {
        let expected = Array(literal.utf8)
        guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else { return false }
        index += expected.count
        return true
    }

    /// A value at `index`; on failure `index` is where the offending value starts (or, inside
    /// an array or object, where what follows it went wrong).
    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard index < bytes.count else { return nil }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { return nil }
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if consume("]") { return .array(items) }
            repeat {
                guard let item = value(depth: depth + 1) else { return nil }
                items.append(item)
                skipSpace()
            } while consume(",")
            return consume("]") ? .array(items) : nil
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { return nil }
            index += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if consume("}") { return .object(members) }
            repeat {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard consume(":"), let item = value(depth: depth + 1) else { return nil }
                members.append((key, item))
                skipSpace()
            } while consume(",")
            return consume("}") ? .object(members) : nil
        case UInt8(ascii: "\""):
            guard let text = string() else { index = start; return nil }
            return .string(text)
        case UInt8(ascii: "t"):
            return consume("true") ? .boolean(true) : nil
        case UInt8(ascii: "f"):
            return consume("false") ? .boolean(false) : nil
        case UInt8(ascii: "n"):
            return consume("null") ? .null : nil
        default:
            guard let number = number() else { index = start; return nil }
            return .number(number)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer when it has neither
    /// fraction nor exponent and fits 64 bits, a float otherwise.
    mutating func number() -> SenMLNumber? {
        let start = index
        _ = consume("-")
        let integerStart = index
        let integerDigits = digits()
        // A leading zero stands alone.
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
        var isFloat = false
        if consume(".") {
            guard digits() > 0 else { return nil }
            isFloat = true
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if !consume("+") { _ = consume("-") }
            guard digits() > 0 else { return nil }
            isFloat = true
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if !isFloat, let integer = Int64(text) { return .integer(integer) }
        guard let float = Double(text), float.isFinite else { return nil }
        return .float(float)
    }

    mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    /// A string at `index` (which is its opening quote), escapes resolved; nil when it is not one.
    mutating func string() -> String? {
        guard consume("\"") else { return nil }
        var utf8: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            case 0x00..<0x20:
                return nil
            default:
                utf8.append(byte)
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` (the `\u` read), a surrogate pair's second half included.
    mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(high) {
            guard consume("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)
    }

    mutating func hex4() -> UInt32? {
        guard bytes.count - index >= 4,
              let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
              bytes[index..<index + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) else { return nil }
        index += 4
        return value
    }
}

enum JSONWriter {
    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A finite number; Swift prints the shortest text that reads back as the same `Double`.
    static func number(_ number: SenMLNumber) -> String? {
        switch number {
        case .integer(let value): return String(value)
        case .float(let value):
            guard value.isFinite else { return nil }
            return "\(value)"
        }
    }
}
