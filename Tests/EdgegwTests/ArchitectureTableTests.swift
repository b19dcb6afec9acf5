import Foundation
import Testing
import TestSupport

/// docs/architecture.md's module table says what each module depends on; Package.swift decides
/// it. This keeps the two in step after a merge changes a target's dependencies.
@Suite struct ArchitectureTableTests {
    /// Declared dependencies of every target in Package.swift: the quoted target names and the
    /// `.product(name:)` names in its `dependencies:` list, plus what the manifest appends later.
    static func declaredDependencies(manifest: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        let target = #/\.(?:target|executableTarget|testTarget)\(name:\s*"([^"]+)"(?:,\s*dependencies:\s*\[((?:[^\[\]]|\[[^\[\]]*\])*)\])?/#
        for match in manifest.matches(of: target) {
            var names = Set<String>()
            if let list = match.output.2 {
                let text = String(list)
                for product in text.matches(of: #/\.product\(name:\s*"([^"]+)"/#) { names.insert(String(product.output.1)) }
                let withoutProducts = text.replacing(#/\.product\([^)]*\)/#, with: "")
                for quoted in withoutProducts.matches(of: #/"([^"]+)"/#) { names.insert(String(quoted.output.1)) }
            }
            result[String(match.output.1)] = names
        }
        for system in manifest.matches(of: #/\.systemLibrary\(name:\s*"([^"]+)"/#) { result[String(system.output.1)] = [] }
        return result
    }

    struct Row { var modules: [String]; var dependencies: String }

    /// The rows of the table under "## Modules": backticked module names, and the last column.
    static func rows(document: String) -> [Row] {
        guard let start = document.range(of: "## Modules") else { return [] }
        let section = document[start.upperBound...]
        var rows: [Row] = []
        for line in section.split(separator: "\n").prefix(while: { !$0.hasPrefix("## ") }) where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard cells.count >= 4 else { continue }
            let modules = cells[1].matches(of: #/`([^`]+)`/#).map { String($0.output.1) }
            rows.append(Row(modules: modules, dependencies: cells[cells.count - 2]))
        }
        return rows
    }

    @Test func theModuleTableNamesEachTargetsDeclaredDependencies() throws {
        let manifest = try String(contentsOfFile: Paths.packageRoot + "/Package.swift", encoding: .utf8)
        let document = try String(contentsOfFile: Paths.packageRoot + "/docs/architecture.md", encoding: .utf8)
        let declared = Self.declaredDependencies(manifest: manifest)
        #expect(declared["CloudLink"]?.contains("COpenSSL") == true, "the manifest parser lost its way: \(declared)")
        let known = declared.values.reduce(Set(declared.keys)) { $0.union($1) }
        let systemLibraries = Set(manifest.matches(of: #/\.systemLibrary\(name:\s*"([^"]+)"/#).map { String($0.output.1) })
        let rows = Self.rows(document: document)
        #expect(rows.count >= 10, "the table was not found: \(rows.count) rows")

        var above = Set<String>()
        for row in rows {
            var named = Set(row.dependencies.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
                .map(String.init).filter(known.contains))
            if row.dependencies.contains("all of the above") { named.formUnion(above) }
            let wanted = row.modules.reduce(into: Set<String>()) { $0.formUnion(declared[$1] ?? []) }
            for module in row.modules { #expect(declared[module] != nil, "\(module) is no target of Package.swift") }
            #expect(named == wanted, "\(row.modules): the table says \(named.sorted()), Package.swift \(wanted.sorted())")
            above.formUnion(row.modules.filter { !systemLibraries.contains($0) })
        }
        let documented = Set(rows.flatMap(\.modules))
        let targets = Set(declared.keys).subtracting(["TestSupport"]).filter { !$0.hasSuffix("Tests") }
        #expect(targets.subtracting(documented).isEmpty, "targets missing from the table: \(targets.subtracting(documented).sorted())")
    }
}
