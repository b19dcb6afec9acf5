import Testing
@testable import Config
@testable import GatewayCore

@Suite struct TOMLDocumentParserTests {
    static let text = """
        # comment
        [product]
        id = "x"
        model = "m"

        [[services]]
        id = "A"
          [[services.properties]]
          name = "p1"
          [[services.properties]]
          name = "p2"
          enum = [
            "a",
            "b",
          ]
          note = \"\"\"
        first = "not a key"
        \"\"\"
          after = 1

        [[services]]
        id = "B"
        """

    @Test func everyKeyKnowsItsLine() throws {
        let document = try TOMLDocumentParser.parse(text: Self.text, file: "p.toml").get()
        let d = ConfigDiagnostics()
        let root = ConfigReader(document: document, diagnostics: d)
        #expect(root.line(of: "product") == 2)
        let services = root.tables("services")
        #expect(services.count == 2)
        #expect(services[1].line(of: "id") == 22)
        let properties = services[0].tables("properties")
        #expect(properties[1].line(of: "name") == 11)
        // Lines inside a multi-line array and string are not mistaken for keys.
        #expect(properties[1].line(of: "after") == 19)
        #expect(properties[1].path == "services[0].properties[1]")
    }

    @Test func keysKeepSourceOrder() throws {
        let document = try TOMLDocumentParser.parse(text: "b = 1\na = 2\nc = 3\n", file: "o.toml").get()
        #expect(document.root.keys == ["b", "a", "c"])
    }

    @Test func invalidTOMLGivesFileLineAndReason() {
        let result = TOMLDocumentParser.parse(text: "a = 1\nb = [1,\nc = \n", file: "bad.toml")
        guard case .failure(let diagnostic) = result else { Issue.record("expected a failure"); return }
        #expect(diagnostic.file == "bad.toml")
        #expect(diagnostic.line != nil)
        #expect(diagnostic.problem.hasPrefix("invalid TOML"))
    }

    @Test func missingFileIsADiagnosticNotACrash() {
        guard case .failure(let diagnostic) = TOMLDocumentParser.load(path: "/nonexistent/edgegw.toml") else {
            Issue.record("expected a failure"); return
        }
        #expect(diagnostic.problem.contains("does not exist"))
    }
}
