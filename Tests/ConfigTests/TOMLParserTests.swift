import Foundation
import Testing
@testable import Config
import GatewayCore
import TestSupport

/// What the project's files use of TOML 1.0, value by value.
@Suite struct TOMLParserTests {
    func parse(_ text: String) throws -> ConfigTable {
        try TOMLDocumentParser.parseTable(bytes: Array(text.utf8))
    }

    func value(_ text: String) throws -> ConfigNode.Value? {
        try parse("v = \(text)\n")["v"]?.value
    }

    @Test func strings() throws {
        #expect(try value(#""tab\there \"q\" \\ \u00E9 \U0001F600 \b\f\r\n""#) == .string("tab\there \"q\" \\ é 😀 \u{8}\u{C}\r\n"))
        #expect(try value(#"'C:\no\escapes'"#) == .string(#"C:\no\escapes"#))
        #expect(try value("\"\"") == .string(""))
        #expect(try value("\"\"\"\nfirst\n  second \\\n    joined\"\"\"") == .string("first\n  second joined"))
        #expect(try value("\"\"\"two \"\" quotes and one more\"\"\"\"") == .string("two \"\" quotes and one more\""))
        #expect(try value("'''\nraw \\n\n'''") == .string("raw \\n\n"))
        #expect(try value("''''quoted'''''") == .string("'quoted''"))
        // CRLF inside a multi-line string is read as LF.
        #expect(try value("\"\"\"a\r\nb\"\"\"") == .string("a\nb"))
    }

    @Test func integers() throws {
        #expect(try value("1_000_000") == .integer(1_000_000))
        #expect(try value("+42") == .integer(42))
        #expect(try value("-0") == .integer(0))
        #expect(try value("0xDEAD_beef") == .integer(0xDEAD_BEEF))
        #expect(try value("0o755") == .integer(0o755))
        #expect(try value("0b1010_0101") == .integer(0b1010_0101))
        #expect(try value("9223372036854775807") == .integer(.max))
        #expect(try value("-9223372036854775808") == .integer(.min))
        #expect(try value("0x7FFFFFFFFFFFFFFF") == .integer(.max))
    }

    @Test func floatsAndBooleans() throws {
        #expect(try value("3.14") == .float(3.14))
        #expect(try value("-1_000.5e-3") == .float(-1.0005))
        #expect(try value("5E+22") == .float(5e22))
        #expect(try value("1e007") == .float(1e7))
        #expect(try value("-inf") == .float(-.infinity))
        guard case .float(let nan)? = try value("nan") else { Issue.record("nan"); return }
        #expect(nan.isNaN)
        #expect(try value("true") == .bool(true))
        #expect(try value("false") == .bool(false))
    }

    @Test func datesAndTimesAreNormalizedText() throws {
        #expect(try value("1979-05-27T07:32:00Z") == .dateTime("1979-05-27T07:32:00Z"))
        #expect(try value("1979-05-27 07:32:00.999000-07:00") == .dateTime("1979-05-27T07:32:00.999-07:00"))
        #expect(try value("1979-05-27t07:32:00+00:00") == .dateTime("1979-05-27T07:32:00Z"))
        #expect(try value("1979-05-27T07:32:00") == .dateTime("1979-05-27T07:32:00"))
        #expect(try value("2000-02-29") == .dateTime("2000-02-29"))
        #expect(try value("07:32:00.1234567891") == .dateTime("07:32:00.123456789"))
    }

    @Test func arraysAndInlineTables() throws {
        let table = try parse("""
            a = [ 1, "two", [3.0, [true]], { x = 1 }, ]  # mixed, trailing comma
            b = [
              # comment
              1,   # one
              2
            ]
            c = []
            d = { name = "n", point.x = 1, point.y = 2, empty = {} }
            """)
        #expect(table["a"]?.value == .array([
            ConfigNode(.integer(1), line: 1), ConfigNode(.string("two"), line: 1),
            ConfigNode(.array([ConfigNode(.float(3), line: 1), ConfigNode(.array([ConfigNode(.bool(true), line: 1)]), line: 1)]), line: 1),
            ConfigNode(.table(Self.table(["x": .integer(1)], line: 1)), line: 1),
        ]))
        #expect(table["b"]?.value == .array([ConfigNode(.integer(1), line: 2), ConfigNode(.integer(2), line: 2)]))
        #expect(table["c"]?.value == .array([]))
        guard case .table(let d)? = table["d"]?.value, case .table(let point)? = d["point"]?.value else { Issue.record("d"); return }
        #expect(d.keys == ["name", "point", "empty"])
        #expect(point.keys == ["x", "y"])
        #expect(point.line == 8)
    }

    @Test func keysTablesAndTheirLines() throws {
        let table = try parse("""
            "quoted.key" = 1
            site.name = "plant"
            site.'the id' = 2
            [a.b.c]
            x = 1
            [a]
            y = 2
            [[list]]
            n = 1
            [list.sub]
            m = 2
            [[list]]
            n = 3
            """)
        #expect(table.keys == ["quoted.key", "site", "a", "list"])
        guard case .table(let site)? = table["site"]?.value else { Issue.record("site"); return }
        #expect(site.keys == ["name", "the id"])
        #expect(table["site"]?.line == 2)
        // `a` is only implied by [a.b.c] until [a] defines it on line 6; `b` stays implied.
        guard case .table(let a)? = table["a"]?.value, case .table(let b)? = a["b"]?.value else { Issue.record("a"); return }
        #expect(table["a"]?.line == 6)
        #expect(a["b"]?.line == 6 && b.line == 6)
        #expect(b["c"]?.line == 4)
        #expect(a["y"]?.line == 7)
        guard case .array(let list)? = table["list"]?.value else { Issue.record("list"); return }
        #expect(table["list"]?.line == 8)
        #expect(list.map(\.line) == [8, 12])
        guard case .table(let first) = list[0].value, case .table(let sub)? = first["sub"]?.value else { Issue.record("list[0]"); return }
        #expect(first["sub"]?.line == 10 && sub["m"]?.line == 11)
    }

    @Test func lineEndingsCommentsAndByteOrderMark() throws {
        let crlf = try parse("# c\r\n[t]\r\na = 1 # c\r\nb = 'x'\r\n")
        guard case .table(let t)? = crlf["t"]?.value else { Issue.record("t"); return }
        #expect(t["b"]?.line == 4)
        #expect(try TOMLDocumentParser.parseTable(bytes: [0xEF, 0xBB, 0xBF] + Array("a = 1".utf8))["a"]?.value == .integer(1))
        #expect(try parse("").isEmpty)
        #expect(try parse("\n  # only a comment\n\t\n").isEmpty)
        #expect(try parse("a = \"é # not a comment\" # ünïcödé comment")["a"]?.value == .string("é # not a comment"))
    }

    /// Every TOML file in the repository parses (but the fuzzers' corpora, which hold broken
    /// input on purpose: FuzzCorpusTests replays those).
    @Test func everySampleAndFixtureParses() throws {
        var count = 0
        for root in ["etc", "Tests"] {
            let base = "\(Paths.packageRoot)/\(root)"
            guard let files = FileManager.default.enumerator(atPath: base) else { Issue.record("no \(base)"); continue }
            for case let name as String in files where name.hasSuffix(".toml") && !name.hasPrefix("Fuzz/") {
                let result = TOMLDocumentParser.load(path: "\(base)/\(name)")
                if case .failure(let diagnostic) = result { Issue.record("\(diagnostic)") }
                count += 1
            }
        }
        #expect(count >= 5)
    }

    static func table(_ values: KeyValuePairs<String, ConfigNode.Value>, line: Int) -> ConfigTable {
        var table = ConfigTable(line: line)
        for (key, value) in values { table[key] = ConfigNode(value, line: line) }
        return table
    }
}
