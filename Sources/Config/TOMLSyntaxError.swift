import GatewayCore

/// What is wrong with a TOML text and where: every input the parser refuses ends here, never in a trap.
/// The cases stay internal so new ones can be added; callers read the line, column, message and fix.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case invalidUTF8(byte: UInt8)
        /// NUL, another C0 control character other than tab, or DEL: TOML allows them nowhere.
        case controlCharacter(UInt8)
        /// A carriage return not followed by a line feed.
        case loneCarriageReturn
        case unexpected(found: String, expected: String)
        /// A value that is no string, number, boolean, date, array or inline table (`level = info`).
        case invalidValue(String)
        case unterminatedString(multiline: Bool)
        /// An array or inline table still open at the end of the text.
        case unclosed(String)
        case newlineInString
        case invalidEscape(String)
        case multilineKey
        case invalidNumber(String, reason: String)
        case integerOutOfRange(String)
        case floatOutOfRange(String)
        case invalidDateTime(String, reason: String)
        case duplicateKey(path: String, firstLine: Int?)
        case duplicateTable(path: String, firstLine: Int?)
        /// The key is already something else (a value, an inline table, a table, an array of
        /// tables); `wanted` says what was refused: "cannot also be an array of tables".
        case conflict(path: String, existing: String, firstLine: Int?, wanted: String)
        case nestingTooDeep(limit: Int)
        case inputTooLarge(limit: Int)
    }

    let kind: Kind
    /// 1-based; columns count characters, not bytes.
    public let line: Int
    public let column: Int

    init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// The dotted key path the error is about, if any (`services[0].id`).
    public var keyPath: String {
        switch kind {
        case .duplicateKey(let path, _), .duplicateTable(let path, _), .conflict(let path, _, _, _): short(path)
        default: ""
        }
    }

    public var message: String {
        func at(_ line: Int?, _ word: String = "line") -> String { line.map { " (\(word) \($0))" } ?? "" }
        switch kind {
        case .invalidUTF8(let byte): return "the file is not UTF-8 text: byte 0x\(hex(byte))"
        case .controlCharacter(0): return "NUL byte"
        case .controlCharacter(let byte): return "control character U+\(hex(byte, width: 4)) is not allowed in TOML"
        case .loneCarriageReturn: return "carriage return without a line feed"
        case .unexpected(let found, let expected): return "expected \(expected), found \(found)"
        case .invalidValue(let token): return "`\(short(token))` is not a value"
        case .unterminatedString(let multiline): return multiline ? "multi-line string is not closed" : "string is not closed"
        case .unclosed(let what): return "\(what) is not closed"
        case .newlineInString: return "string is not closed on its line"
        case .invalidEscape(let escape): return "invalid escape sequence `\(short(escape))`"
        case .multilineKey: return "a key cannot be a multi-line string"
        case .invalidNumber(let token, let reason): return "invalid number `\(short(token))`: \(reason)"
        case .integerOutOfRange(let token): return "integer `\(short(token))` does not fit in 64 bits"
        case .floatOutOfRange(let token): return "float `\(short(token))` is out of range"
        case .invalidDateTime(let token, let reason): return "invalid date or time `\(short(token))`: \(reason)"
        case .duplicateKey(_, let first): return "key defined twice\(at(first, "first at line"))"
        case .duplicateTable(_, let first): return "table defined twice\(at(first, "first at line"))"
        case .conflict(_, let existing, let first, let wanted): return "already \(existing)\(at(first)), \(wanted)"
        case .nestingTooDeep(let limit): return "nested deeper than \(limit) levels"
        case .inputTooLarge(let limit): return "larger than \(limit / 1_048_576) MiB"
        }
    }

    /// How to fix it, in the words of someone editing the file (nil where the message says it).
    public var fix: String? {
        switch kind {
        case .invalidUTF8: "save the file as UTF-8"
        case .controlCharacter, .loneCarriageReturn: "delete the character, or write it as an escape in a \"string\""
        case .unexpected: nil
        case .invalidValue(let token): "quote text: \"\(short(token))\""
        case .unterminatedString(true): "close it with the same three quotes"
        case .unclosed(let what): what == "array" ? "close it with ]" : "close it with }"
        case .unterminatedString(false), .newlineInString: "close the quote on the same line, or use \"\"\" for text over several lines"
        case .invalidEscape: "use \\\\ for a backslash; the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"
        case .multilineKey: "quote the key with \" or '"
        case .invalidNumber, .integerOutOfRange, .floatOutOfRange: "write a decimal, 0x, 0o or 0b integer of at most 64 bits, or a float such as 1.5e3"
        case .invalidDateTime: "write it as 1979-05-27, 07:32:00 or 1979-05-27T07:32:00Z"
        case .duplicateKey, .duplicateTable: "remove one of them"
        case .conflict: "rename one of them"
        case .nestingTooDeep: "flatten the structure"
        case .inputTooLarge: "point edgegw at its config file"
        }
    }

    public var description: String { "line \(line), column \(column): \(message)" }

    /// The same, as a config diagnostic: `file:line: key: invalid TOML: ... (column N) (fix: ...)`.
    public func diagnostic(file: String) -> ConfigDiagnostic {
        ConfigDiagnostic(file: file, line: line, keyPath: keyPath,
                         problem: "invalid TOML: \(message) (column \(column))", fix: fix)
    }
}

/// Text from the input, cut short for a message (a token may be a megabyte of digits).
private func short(_ text: String, limit: Int = 64) -> String {
    text.count <= limit ? text : text.prefix(limit) + "…"
}

private func hex(_ byte: UInt8, width: Int = 2) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
