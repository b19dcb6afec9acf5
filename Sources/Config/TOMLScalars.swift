import GatewayCore

/// Booleans, integers, floats, dates and times: the values written without quotes or brackets.
extension TOMLCursor {
    /// Reads the bare token at the cursor (up to a space, `,`, `]`, `}`, `#` or a line end) and
    /// converts it. A date followed by a space and a time is one token (`1979-05-27 07:32:00`).
    mutating func scalar() throws(TOMLSyntaxError) -> ConfigNode.Value {
        let start = offset
        while let byte = peek(), Self.isTokenByte(byte) { advance() }
        if offset - start == 10, peek() == Self.space, let h = peek(1), let m = peek(2),
           Self.isDigit(h), Self.isDigit(m), peek(3) == UInt8(ascii: ":"), bytes[start + 4] == UInt8(ascii: "-") {
            advance()
            while let byte = peek(), Self.isTokenByte(byte) { advance() }
        }
        guard offset > start else { throw unexpected("a value") }
        let token = Array(bytes[start..<offset])
        let text = String(decoding: token, as: UTF8.self)
        func fail(_ kind: TOMLSyntaxError.Kind) -> TOMLSyntaxError { error(kind, at: start) }

        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let isTime = token.count >= 3 && Self.isDigit(token[0]) && Self.isDigit(token[1]) && token[2] == UInt8(ascii: ":")
        let isDate = token.count >= 5 && token[0..<4].allSatisfy(Self.isDigit) && token[4] == UInt8(ascii: "-")
        if isTime || isDate {
            do {
                return .dateTime(try TOMLTimestamp.format(token))
            } catch {
                throw fail(.invalidDateTime(text, reason: error.reason))
            }
        }
        guard let first = token.first, Self.isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else {
            throw fail(.invalidValue(text))
        }
        switch TOMLNumber.parse(token) {
        case .integer(let value): return .integer(value)
        case .float(let value): return .float(value)
        case .integerOutOfRange: throw fail(.integerOutOfRange(text))
        case .floatOutOfRange: throw fail(.floatOutOfRange(text))
        case .invalid(let reason): throw fail(.invalidNumber(text, reason: reason))
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Letters, digits and `_ + - . :`: every byte a number, boolean or date can hold.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: false
        }
    }
}

/// TOML integers (decimal, 0x, 0o, 0b; `_` between digits) and floats, by the TOML 1.0 grammar.
enum TOMLNumber: Equatable {
    case integer(Int64), float(Double), integerOutOfRange, floatOutOfRange, invalid(String)

    static func parse(_ token: [UInt8]) -> TOMLNumber {
        var i = 0
        var negative = false
        if let sign = token.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            i = 1
        }
        if token.count >= i + 2, token[i] == UInt8(ascii: "0"), let radix = radix(token[i + 1]) {
            guard i == 0 else { return .invalid("a hexadecimal, octal or binary integer has no sign") }
            return integer(token, from: 2, radix: radix, negative: false)
        }
        guard let intEnd = digits(token, from: i, radix: 10) else { return .invalid("expected digits, with `_` only between digits") }
        if intEnd - i > 1, token[i] == UInt8(ascii: "0") { return .invalid("leading zeros are not allowed") }
        var end = intEnd
        var isFloat = false
        if end < token.count, token[end] == UInt8(ascii: ".") {
            guard let fractionEnd = digits(token, from: end + 1, radix: 10) else { return .invalid("expected digits after the decimal point") }
            end = fractionEnd
            isFloat = true
        }
        if end < token.count, token[end] | 0x20 == UInt8(ascii: "e") {
            var exponent = end + 1
            if exponent < token.count, token[exponent] == UInt8(ascii: "+") || token[exponent] == UInt8(ascii: "-") { exponent += 1 }
            guard let exponentEnd = digits(token, from: exponent, radix: 10) else { return .invalid("expected digits in the exponent") }
            end = exponentEnd
            isFloat = true
        }
        guard end == token.count else { return .invalid("unexpected '\(String(decoding: token[end...].prefix(1), as: UTF8.self))'") }
        guard isFloat else { return integer(token, from: i, radix: 10, negative: negative) }
        let text = String(decoding: token.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        guard let value = Double(text) else { return .invalid("not a number") }
        return value.isFinite ? .float(value) : .floatOutOfRange
    }

    private static func radix(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    private static func digitValue(_ byte: UInt8, radix: UInt64) -> UInt64? {
        guard let value = TOMLCursor.hexValue(byte).map(UInt64.init), value < radix else { return nil }
        return value
    }

    /// End of a run of digits with single `_` between them, or nil when there is none or an `_` is misplaced.
    private static func digits(_ token: [UInt8], from start: Int, radix: UInt64) -> Int? {
        var i = start
        guard i < token.count, digitValue(token[i], radix: radix) != nil else { return nil }
        while i < token.count {
            if digitValue(token[i], radix: radix) != nil {
                i += 1
            } else if token[i] == UInt8(ascii: "_") {
                guard i + 1 < token.count, digitValue(token[i + 1], radix: radix) != nil else { return nil }
                i += 1
            } else {
                break
            }
        }
        return i
    }

    private static func integer(_ token: [UInt8], from start: Int, radix: UInt64, negative: Bool) -> TOMLNumber {
        guard let end = digits(token, from: start, radix: radix), end == token.count else {
            return .invalid("expected base-\(radix) digits, with `_` only between digits")
        }
        var magnitude: UInt64 = 0
        for byte in token[start...] where byte != UInt8(ascii: "_") {
            guard let digit = digitValue(byte, radix: radix) else { return .invalid("unexpected digit") }
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, carry) = product.addingReportingOverflow(digit)
            if overflow || carry { return .integerOutOfRange }
            magnitude = sum
        }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return .integer(.min) }
            return magnitude <= UInt64(Int64.max) ? .integer(-Int64(magnitude)) : .integerOutOfRange
        }
        return magnitude <= UInt64(Int64.max) ? .integer(Int64(magnitude)) : .integerOutOfRange
    }
}
