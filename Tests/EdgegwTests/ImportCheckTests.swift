import Foundation
import Testing
import TestSupport

/// `make test` runs scripts/check-imports.py before it builds: a target must declare exactly the
/// modules its files import. These cases show the check refuses both kinds of mismatch.
@Suite struct ImportCheckTests {
    /// A package of two library targets, A (or another name) and B, and a C library CLib, in a
    /// temporary folder; A declares `aDeclares`.
    /// `rules`: rows of the "Dependency rules" table written to docs/architecture.md (none: no document).
    func check(aImports: [String], aDeclares: [String], aName: String = "A",
               rules: [String]? = nil) async throws -> (status: Int32?, output: String) {
        let folder = TemporaryDirectory(prefix: "edgegw-imports")
        if let rules {
            _ = folder.write("docs/architecture.md", """
                # Architecture

                ## Dependency rules

                | target | may import | why |
                |---|---|---|
                \(rules.joined(separator: "\n"))

                ## Next
                """)
        }
        _ = folder.write("Sources/\(aName)/A.swift", aImports.map { "import \($0)\n" }.joined() + "public struct A {}\n")
        _ = folder.write("Sources/B/B.swift", "import Foundation\npublic struct B {}\n")
        let dependencies = aDeclares.map { #"{"byName": ["\#($0)", null]}"# }.joined(separator: ", ")
        _ = folder.write("package.json", """
            {"targets": [
              {"name": "\(aName)", "type": "regular", "dependencies": [\(dependencies)]},
              {"name": "B", "type": "regular", "dependencies": []},
              {"name": "CLib", "type": "system", "dependencies": []}
            ]}
            """)
        let checker = try ChildProcess("python3", [Paths.packageRoot + "/scripts/check-imports.py", "package.json"],
                                       currentDirectory: folder.path)
        let status = await checker.waitForExit(timeout: .seconds(30))
        return (status, checker.text)
    }

    @Test func declaredAndImportedAlikePasses() async throws {
        let result = try await check(aImports: ["Foundation", "B"], aDeclares: ["B"])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func anUndeclaredImportIsRefusedWithItsLine() async throws {
        let result = try await check(aImports: ["Foundation", "B"], aDeclares: [])
        #expect(result.status == 1)
        #expect(result.output.contains("Sources/A/A.swift:2: A imports B, which it does not declare"), "\(result.output)")
    }

    @Test func aDeclaredModuleNobodyImportsIsRefused() async throws {
        let result = try await check(aImports: ["Foundation"], aDeclares: ["B"])
        #expect(result.status == 1)
        #expect(result.output.contains("A declares B, which none of its files import"), "\(result.output)")
    }

    @Test func aTargetElsewhereIsFoundThroughItsPath() async throws {
        let folder = TemporaryDirectory(prefix: "edgegw-imports")
        _ = folder.write("Tools/Sim/Sim.swift", "import B\npublic struct Sim {}\n")
        _ = folder.write("Sources/B/B.swift", "public struct B {}\n")
        func run(_ path: String) async throws -> (status: Int32?, output: String) {
            _ = folder.write("package.json", """
                {"targets": [
                  {"name": "Sim", "type": "regular", "path": "\(path)", "dependencies": [{"byName": ["B", null]}]},
                  {"name": "B", "type": "regular", "dependencies": []}
                ]}
                """)
            let checker = try ChildProcess("python3", [Paths.packageRoot + "/scripts/check-imports.py", "package.json"],
                                           currentDirectory: folder.path)
            let status = await checker.waitForExit(timeout: .seconds(30))
            return (status, checker.text)
        }
        let found = try await run("Tools/Sim")
        #expect(found.status == 0, "\(found.output)")
        let lost = try await run("Sources/Sim")
        #expect(lost.status == 1)
        #expect(lost.output.contains("Sim has no Swift files in Sources/Sim"), "\(lost.output)")
    }

    @Test func aPureModuleImportingACLibraryIsRefused() async throws {
        let result = try await check(aImports: ["CLib"], aDeclares: ["CLib"], aName: "IoTDA")
        #expect(result.status == 1)
        #expect(result.output.contains("IoTDA is a pure module and imports the C library module CLib"), "\(result.output)")
        let adapter = try await check(aImports: ["CLib"], aDeclares: ["CLib"], aName: "CloudLink")
        #expect(adapter.status == 0, "\(adapter.output)")
    }

    @Test func anImportTheDependencyRulesDoNotAllowIsRefused() async throws {
        let allowed = try await check(aImports: ["B"], aDeclares: ["B"],
                                      rules: ["| `A` | `B` | uses B |", "| `B` | nothing | |"])
        #expect(allowed.status == 0, "\(allowed.output)")
        let refused = try await check(aImports: ["B"], aDeclares: ["B"],
                                      rules: ["| `A` | `GatewayCore` | a field module |", "| `B` | nothing | |"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("Sources/A/A.swift:1: A may not import B (docs/architecture.md, Dependency rules)"),
                "\(refused.output)")
    }

    @Test func aTargetWithoutARuleIsRefused() async throws {
        let result = try await check(aImports: ["Foundation"], aDeclares: [], rules: ["| `B` | nothing | |"])
        #expect(result.status == 1)
        #expect(result.output.contains("A has no row in the \"Dependency rules\" table"), "\(result.output)")
    }

    @Test func theCompositionRootMayImportAnyModuleButACLibrary() async throws {
        let rules = ["| `A` | every module but a C library | composition |", "| `B` | nothing | |"]
        let modules = try await check(aImports: ["B"], aDeclares: ["B"], rules: rules)
        #expect(modules.status == 0, "\(modules.output)")
        let cLibrary = try await check(aImports: ["CLib"], aDeclares: ["CLib"], rules: rules)
        #expect(cLibrary.status == 1)
        #expect(cLibrary.output.contains("A imports the C library module CLib; C libraries stay behind their adapter"),
                "\(cLibrary.output)")
    }
}
