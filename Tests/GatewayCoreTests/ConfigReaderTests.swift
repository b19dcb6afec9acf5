import Testing
@testable import GatewayCore

@Suite struct ConfigReaderTests {
    func table(_ pairs: [(String, ConfigNode.Value, Int)]) -> ConfigTable {
        var t = ConfigTable(line: 1)
        for (k, v, line) in pairs { t[k] = ConfigNode(v, line: line) }
        return t
    }

    @Test func missingRequiredKeyNamesTheKeyAndTheFix() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([]), file: "a.toml", path: "gateway", diagnostics: d)
        #expect(r.string("device_id") == nil)
        #expect(d.all.count == 1)
        #expect(d.all[0].keyPath == "gateway.device_id")
        #expect(d.all[0].problem.contains("missing"))
        #expect(d.all[0].description.hasPrefix("a.toml:1: gateway.device_id: required key is missing"))
    }

    @Test func wrongTypeSaysExpectedAndFound() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("port", .string("8883"), 7)]), file: "a.toml", diagnostics: d)
        #expect(r.int("port") == nil)
        #expect(d.all.first?.description == "a.toml:7: port: expected integer, found string")
    }

    @Test func outOfRangeGivesTheRange() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("keepalive", .integer(5), 3)]), file: "a.toml", diagnostics: d)
        #expect(r.int("keepalive", default: 120, range: 30...1200) == 120)
        #expect(d.all.first?.fix == "use a value from 30 to 1200")
    }

    @Test func unknownKeyIsAnErrorWithASuggestion() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("host", .string("x"), 2), ("prot", .integer(1), 3)]), file: "a.toml", diagnostics: d)
        _ = r.string("host")
        _ = r.int("port", required: false)
        r.finish()
        #expect(d.all.count == 1)
        #expect(d.all[0].keyPath == "prot")
        #expect(d.all[0].line == 3)
        #expect(d.all[0].fix == "did you mean `port`?")
    }

    @Test func choiceListsTheAllowedWords() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("level", .string("loud"), 4)]), file: "a.toml", diagnostics: d)
        #expect(r.choice("level", as: GatewayConfig.LogLevel.self) == nil)
        #expect(d.all.first?.fix?.contains("\"debug\"") == true)
    }

    @Test func arrayOfTablesGetsIndexedPaths() {
        var inner = ConfigTable(line: 10)
        inner["name"] = ConfigNode(.integer(3), line: 11)
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("points", .array([ConfigNode(.table(inner), line: 10)]), 10)]),
                             file: "d.toml", diagnostics: d)
        let items = r.tables("points")
        #expect(items.count == 1)
        #expect(items[0].string("name") == nil)
        #expect(d.all.first?.description == "d.toml:11: points[0].name: expected string, found integer")
    }

    @Test func collectsEveryProblemNotJustTheFirst() {
        let d = ConfigDiagnostics()
        let r = ConfigReader(table: table([("a", .bool(true), 1), ("b", .bool(true), 2)]), file: "x.toml", diagnostics: d)
        _ = r.string("a")
        _ = r.string("b")
        _ = r.string("c")
        #expect(d.all.count == 3)
    }
}
