import Foundation
import Testing
@testable import Config
import GatewayCore
import TestSupport

/// Broken config files: each one is a `file:line` diagnostic, never a crash. The first rows
/// aborted edgegw (TOMLKit's toml++ asserts in `parse_key()`, in debug and release builds alike).
@Suite struct TOMLBrokenInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let line: Int
        let message: String
        var testDescription: String { name }

        init(_ name: String, _ text: String, line: Int = 1, _ message: String) {
            self.init(name, Array(text.utf8), line: line, message)
        }

        init(_ name: String, _ bytes: [UInt8], line: Int = 1, _ message: String) {
            self.name = name
            self.bytes = bytes
            self.line = line
            self.message = message
        }
    }

    static func nested(_ open: String, _ middle: String, _ close: String, _ count: Int) -> String {
        "a = " + String(repeating: open, count: count) + middle + String(repeating: close, count: count) + "\n"
    }

    static let cases: [Case] = [
        // toml++ asserted on these.
        Case("[[[ not toml", "[[[ not toml\n", "expected a key, found '[' (column 3)"),
        Case("[[", "[[\n", "expected a key, found end of line"),
        Case("[", "[\n", "expected a key, found end of line"),
        Case("[.a]", "[.a]\n", "expected a key, found '.'"),
        Case("BOM then [[[", [0xEF, 0xBB, 0xBF] + Array("[[[\n".utf8), "expected a key, found '['"),
        // Headers and keys.
        Case("[a.]", "[a.]\n", "expected a key, found ']'"),
        Case("[a..b]", "[a..b]\n", "expected a key, found '.'"),
        Case("[]", "x = 1\n[]\n", line: 2, "expected a key, found ']'"),
        Case("[[]]", "[[]]\n", "expected a key, found ']'"),
        Case("[[a]", "[[a]\n", "expected ']]', found end of line"),
        Case("[ [a] ]", "[ [a] ]\n", "expected a key, found '['"),
        Case("text after a header", "[a] b = 1\n", "expected the end of the line, found 'b'"),
        Case("a = ", "a = \n", "expected a value, found end of line"),
        Case("a = at the end", "a =", "expected a value, found end of file"),
        Case("= 1", "= 1\n", "expected a key, found '='"),
        Case("a key alone", "a\n", "expected '=' after the key"),
        Case("two words", "a b = 1\n", "expected '=' after the key, found 'b'"),
        Case("two values", "a = 1 2\n", "expected the end of the line, found '2'"),
        Case("multi-line key", "\"\"\"a\"\"\" = 1\n", "a key cannot be a multi-line string"),
        Case("empty key in an inline table", "a = { = 1}\n", "expected a key, found '='"),
        // Strings.
        Case("unterminated basic string", "a = \"abc\nb = 1\n", "string is not closed on its line"),
        Case("unterminated literal string", "a = 'abc\n", "string is not closed on its line"),
        Case("unterminated multi-line string", "a = \"\"\"abc\n\nb = 1\n", "multi-line string is not closed"),
        Case("unterminated multi-line literal", "a = '''abc\n", "multi-line string is not closed"),
        Case("string open at the end", "a = \"abc", "string is not closed"),
        Case("backslash at the end", "a = \"\\", "string is not closed"),
        Case("bad escape", "a = \"\\q\"\n", "invalid escape sequence `\\q`"),
        Case("short \\u", "a = \"\\u12\"\n", "invalid escape sequence `\\u12`"),
        Case("surrogate \\u", "a = \"\\uD800\"\n", "invalid escape sequence `\\uD800`"),
        Case("\\U above U+10FFFF", "a = \"\\U00110000\"\n", "invalid escape sequence `\\U00110000`"),
        Case("six quotes", "a = \"\"\"x\"\"\"\"\"\"\n", "expected the end of the line, found '\"'"),
        // Defined twice, or as two things.
        Case("[[a]] after a = 1", "a = 1\n[[a]]\n", line: 2, "already an integer (line 1), cannot also be an array of tables"),
        Case("duplicate key", "a = 1\nb = 2\na = 3\n", line: 3, "key defined twice (first at line 1)"),
        Case("duplicate table", "[t]\nx = 1\n[t]\n", line: 3, "table defined twice (first at line 1)"),
        Case("[t.x] after x = 1", "[t]\nx = 1\n[t.x]\n", line: 3, "already an integer (line 2), cannot also be a [table]"),
        Case("[a] after a = {}", "a = {b = 1}\n[a]\n", line: 2, "already an inline table (line 1)"),
        Case("a.c after a = {}", "a = {b = 1}\na.c = 2\n", line: 2, "already an inline table (line 1), cannot be extended"),
        Case("[a] after [[a]]", "[[a]]\n[a]\n", line: 2, "already an array of tables (line 1)"),
        Case("[[a]] after a = []", "a = [1]\n[[a]]\n", line: 2, "already an array (line 1)"),
        Case("[a.b] after b.c = 1", "[a]\nb.c = 1\n[a.b]\n", line: 3, "already a table defined by dotted keys (line 2)"),
        Case("a.b.c after a.b = 1", "a.b = 1\na.b.c = 2\n", line: 2, "already an integer (line 1)"),
        Case("duplicate key in an inline table", "a = {b = 1, b = 2}\n", "key defined twice"),
        Case("[a] twice, implied first", "[a.b]\n[a]\n[a]\n", line: 3, "table defined twice (first at line 2)"),
        // Nesting.
        Case("10,000 nested arrays", nested("[", "", "]", 10_000), "nested deeper than 128 levels"),
        Case("10,000 nested inline tables", nested("{b = ", "1", "}", 10_000), "nested deeper than 128 levels"),
        Case("10,000 unclosed arrays", nested("[", "", "", 10_000), "nested deeper than 128 levels"),
        Case("10,000-part dotted key", Array(repeating: "a", count: 10_000).joined(separator: ".") + " = 1\n", "nested deeper than 128 levels"),
        Case("10,000-part header", "[" + Array(repeating: "a", count: 10_000).joined(separator: ".") + "]\n", "nested deeper than 128 levels"),
        Case("130 nested arrays of tables", (1...130).map { "[[" + Array(repeating: "a", count: $0).joined(separator: ".") + "]]" }.joined(separator: "\n"),
             line: 65, "nested deeper than 128 levels"),
        // Bytes TOML allows nowhere.
        Case("NUL in a string", "a = \"x\0y\"\n", "NUL byte (column 7)"),
        Case("NUL alone", "\0", "NUL byte"),
        Case("NUL in a comment", "a = 1\n# \0\n", line: 2, "NUL byte"),
        Case("invalid UTF-8 0xFF", [UInt8]("a = \"".utf8) + [0xFF, 0x22, 0x0A], "not UTF-8 text: byte 0xFF (column 6)"),
        Case("truncated UTF-8", [UInt8]("a = \"".utf8) + [0xE2, 0x82, 0x22, 0x0A], "not UTF-8 text: byte 0xE2"),
        Case("overlong UTF-8", [UInt8]("a = \"".utf8) + [0xC0, 0xAF, 0x22, 0x0A], "not UTF-8 text: byte 0xC0"),
        Case("UTF-8 surrogate", [UInt8]("a = 1\n# ".utf8) + [0xED, 0xA0, 0x80, 0x0A], line: 2, "not UTF-8 text: byte 0xED"),
        Case("invalid UTF-8 key", [0xFE] + Array(" = 1\n".utf8), "not UTF-8 text: byte 0xFE (column 1)"),
        Case("lone \\r", "a = 1\rb = 2\n", "carriage return without a line feed (column 6)"),
        Case("\\r in a string", "a = 1\nb = \"x\ry\"\n", line: 2, "carriage return without a line feed"),
        Case("BEL in a string", "a = \"\u{7}\"\n", "control character U+0007"),
        Case("DEL in a comment", "# \u{7F}\n", "control character U+007F"),
        // Numbers.
        Case("huge integer", "a = 99999999999999999999\n", "integer `99999999999999999999` does not fit in 64 bits"),
        Case("Int64.min - 1", "a = -9223372036854775809\n", "does not fit in 64 bits"),
        Case("Int64.max + 1", "a = 9223372036854775808\n", "does not fit in 64 bits"),
        Case("huge hex", "a = 0x1_0000_0000_0000_0000\n", "does not fit in 64 bits"),
        Case("0x8000000000000000", "a = 0x8000000000000000\n", "does not fit in 64 bits"),
        Case("a million digits", "a = " + String(repeating: "9", count: 1_000_000) + "\n", "99…` does not fit in 64 bits"),
        Case("huge float", "a = 1e400\n", "float `1e400` is out of range"),
        Case("leading zero", "a = 01\n", "leading zeros are not allowed"),
        Case("double underscore", "a = 1__0\n", "`_` only between digits"),
        Case("trailing underscore", "a = 1_\n", "`_` only between digits"),
        Case("empty hex", "a = 0x\n", "invalid number `0x`"),
        Case("signed hex", "a = +0x1\n", "has no sign"),
        Case("octal digit 8", "a = 0o8\n", "invalid number `0o8`"),
        Case("1.", "a = 1.\n", "expected digits after the decimal point"),
        Case("1e", "a = 1e\n", "expected digits in the exponent"),
        Case(".5", "a = .5\n", "`.5` is not a value"),
        // Dates, booleans, bare words.
        Case("month 13", "a = 1979-13-01\n", "month 13 is not 01 to 12"),
        Case("30 February", "a = 1979-02-30\n", "day 30 is not in the month"),
        Case("29 February 1900", "a = 1900-02-29\n", "day 29 is not in the month"),
        Case("hour 24", "a = 24:00:00\n", "out of range"),
        Case("no seconds", "a = 1979-05-27T07:32\n", "expected ':'"),
        Case("bad offset", "a = 1979-05-27T07:32:00+25:00\n", "offset is out of range"),
        Case("tru", "a = tru\n", "`tru` is not a value"),
        Case("unquoted text", "[log]\nlevel = info\n", line: 2, "`info` is not a value (column 9) (fix: quote text: \"info\")"),
        // Arrays and inline tables.
        Case("inline table over two lines", "a = {b = 1,\nc = 2}\n", "expected a key, found end of line"),
        Case("inline table ending in a comma", "a = {b = 1,}\n", "expected a key, found '}'"),
        Case("inline table not closed", "a = {b = 1\n", "expected ',' or '}' (an inline table is on one line), found end of line"),
        Case("array without a comma", "a = [1 2]\n", "expected ',' or ']', found '2'"),
        Case("array not closed", "a = [1, 2\n", "array is not closed (column 5)"),
        Case("array with an empty item", "a = [1,,2]\n", "expected a value, found ','"),
        Case("array into the next key", "a = [1,\nb = 2\n", line: 2, "`b` is not a value"),
    ]

    @Test(arguments: cases) func isAFileLineDiagnostic(_ input: Case) {
        switch TOMLDocumentParser.parse(bytes: input.bytes, file: "edgegw.toml") {
        case .success:
            Issue.record("\(input.name): accepted")
        case .failure(let diagnostic):
            #expect(diagnostic.line == input.line, "\(diagnostic)")
            #expect(diagnostic.description.hasPrefix("edgegw.toml:\(input.line): "), "\(diagnostic)")
            #expect(diagnostic.description.contains(input.message), "\(diagnostic)")
            #expect(diagnostic.problem.hasPrefix("invalid TOML: "))
        }
    }

    /// The same mistakes in front of the sample config: still refused, at a line of the file.
    @Test(arguments: cases) func isADiagnosticInAFullFile(_ input: Case) throws {
        let sample = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Paths.packageRoot)/etc/edgegw/edgegw.toml")))
        let lines = sample.filter { $0 == 0x0A }.count + input.bytes.filter { $0 == 0x0A }.count + 1
        switch TOMLDocumentParser.parse(bytes: input.bytes + sample, file: "edgegw.toml") {
        case .success: Issue.record("\(input.name): accepted")
        case .failure(let diagnostic): #expect((1...lines).contains(diagnostic.line ?? 0), "\(diagnostic)")
        }
    }

    /// The report: `[[[ not toml` appended to the sample config.
    @Test func theReportedTypo() throws {
        let path = "\(Paths.packageRoot)/etc/edgegw/edgegw.toml"
        let sample = try String(contentsOfFile: path, encoding: .utf8)
        let line = sample.split(separator: "\n", omittingEmptySubsequences: false).count
        let result = TOMLDocumentParser.parse(text: sample + "[[[ not toml\n", file: path)
        guard case .failure(let diagnostic) = result else { Issue.record("accepted"); return }
        #expect(diagnostic.description == "\(path):\(line): invalid TOML: expected a key, found '[' (column 3)")
    }

    @Test func typedErrorHasLineAndColumn() {
        #expect(throws: TOMLSyntaxError(.unexpected(found: "'['", expected: "a key"), line: 2, column: 3)) {
            try TOMLDocumentParser.parseTable(bytes: Array("a = 1\n[[[ not toml\n".utf8))
        }
        #expect(throws: TOMLSyntaxError(.nestingTooDeep(limit: 128), line: 1, column: 133)) {
            try TOMLDocumentParser.parseTable(bytes: Array(Self.nested("[", "", "]", 10_000).utf8))
        }
    }

    @Test func oversizedInputIsRefusedUnread() {
        let big = [UInt8](repeating: 0x20, count: TOMLParser.maxBytes + 1)
        guard case .failure(let diagnostic) = TOMLDocumentParser.parse(bytes: big, file: "big.toml") else {
            Issue.record("accepted"); return
        }
        #expect(diagnostic.problem.contains("larger than 16 MiB"))
    }

    @Test func fileThatIsNotUTF8GetsItsLine() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.file("latin1.toml")
        try Data("[gateway]\nname = \"M\u{FC}ller\"\n".data(using: .isoLatin1)!).write(to: URL(fileURLWithPath: path))
        guard case .failure(let diagnostic) = TOMLDocumentParser.load(path: path) else { Issue.record("accepted"); return }
        #expect(diagnostic.description.hasPrefix("\(path):2: invalid TOML: the file is not UTF-8 text: byte 0xFC (column 10)"))
    }
}
