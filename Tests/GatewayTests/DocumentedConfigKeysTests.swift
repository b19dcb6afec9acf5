import Config
import Foundation
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore

/// Every `edgegw.toml` key the README and docs/*.md name is fed to the config reader, so the
/// docs cannot list a key that `edgegw check` rejects.
@Suite struct DocumentedConfigKeysTests {
    /// The documents whose keys are checked.
    static let documents = ["README.md", "docs/architecture.md", "docs/cloudlink.md", "docs/codec.md", "docs/iotda.md", "docs/lwm2m.md", "docs/modbus.md"]
    /// Top-level tables of edgegw.toml; `[read]` and the like belong to other files.
    static let tables: Set<String> = ["gateway", "cloud", "listeners", "store", "log", "limits", "modbus", "lwm2m", "paths", "upgrade"]

    struct DocumentedKey: CustomStringConvertible, Sendable {
        var path: String
        /// A TOML value the document gives for it (its default), if any.
        var value: String?
        var source: String
        var description: String { "\(path) (\(source))" }
    }

    /// Keys written as `` `table.key` `` or `` `[table] key, key` `` (optionally `= value`), or as
    /// bare `` `key` `` in the first column of a table that follows a line naming `` `[table]` ``;
    /// in a table row, the backticked values of the second column are the keys' defaults, in order.
    static func keys(in text: String, source: String) -> [DocumentedKey] {
        var found: [DocumentedKey] = []
        var sectionOfTable: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let cells = line.hasPrefix("|") ? line.split(separator: "|", omittingEmptySubsequences: false).map(String.init) : []
            let spans = backticked(String(line))
            if line.hasPrefix("#") { sectionOfTable = nil }
            if cells.isEmpty, let named = spans.first(where: { $0.wholeMatch(of: #/\[[a-z][a-z0-9_.]*\]/#) != nil }) {
                let table = String(named.dropFirst().dropLast())
                if let top = table.split(separator: ".").first, tables.contains(String(top)) { sectionOfTable = table }
            }
            // The first column of a table row: its keys, paired with the second column's values.
            var firstColumn: [String] = []
            if cells.count > 3 {
                for span in backticked(cells[1]) {
                    if let table = sectionOfTable, span.wholeMatch(of: #/[a-z][a-z0-9_]*/#) != nil {
                        firstColumn.append("\(table).\(span)")
                    } else {
                        firstColumn += keyPaths(in: span).map(\.0)
                    }
                }
                let values = backticked(cells[2])
                for (index, path) in firstColumn.enumerated() {
                    found.append(DocumentedKey(path: path, value: values.count == firstColumn.count ? values[index] : nil, source: source))
                }
            }
            // Anywhere else on the line.
            let elsewhere = cells.count > 3 ? cells.dropFirst(2).flatMap { backticked($0) } : spans
            for span in elsewhere {
                for (path, value) in keyPaths(in: span) { found.append(DocumentedKey(path: path, value: value, source: source)) }
            }
        }
        return found
    }

    static func backticked(_ text: String) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// `lwm2m.awake_window` or `[lwm2m] awake_window, result_wait` or `[lwm2m] command_strategy = "delay"`.
    static func keyPaths(in span: String) -> [(String, String?)] {
        let listed = #/\[([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\]\s+([a-z][a-z0-9_]*(?:\s*,\s*[a-z][a-z0-9_]*)*)(?:\s*=\s*(.+))?/#
        if let match = span.wholeMatch(of: listed), let top = match.output.1.split(separator: ".").first, tables.contains(String(top)) {
            let names = match.output.2.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let value = match.output.3.map(String.init)
            return names.map { ("\(match.output.1).\($0)", names.count == 1 ? value : nil) }
        }
        let dotted = #/[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+/#
        if span.wholeMatch(of: dotted) != nil, let top = span.split(separator: ".").first, tables.contains(String(top)) {
            return [(span, nil)]
        }
        return []
    }

    /// The fixture's config with `path = value` set (replacing the key if the fixture has it).
    static func config(_ base: String, setting path: String, to value: String) -> String {
        let parts = path.split(separator: ".").map(String.init)
        let table = parts.dropLast().joined(separator: ".")
        let key = parts[parts.count - 1]
        var lines = base.components(separatedBy: "\n")
        guard let header = lines.firstIndex(of: "[\(table)]") else {
            return base + "\n[\(table)]\n\(key) = \(value)\n"
        }
        var end = header + 1
        while end < lines.count, !lines[end].hasPrefix("[") { end += 1 }
        if let existing = lines[(header + 1)..<end].firstIndex(where: { $0.hasPrefix("\(key) =") || $0.hasPrefix("\(key)=") }) {
            lines[existing] = "\(key) = \(value)"
        } else {
            lines.insert("\(key) = \(value)", at: header + 1)
        }
        return lines.joined(separator: "\n")
    }

    static func diagnostics(setting path: String, to value: String) -> [ConfigDiagnostic] {
        let fixture = ConfigFixture()
        let base = (try? String(contentsOfFile: fixture.configPath, encoding: .utf8)) ?? ""
        fixture.directory.write("edgegw.toml", config(base, setting: path, to: value))
        switch ConfigLoader.load(path: fixture.configPath) {
        case .success: return []
        case .failure(let errors): return errors.diagnostics
        }
    }

    static let documented: [DocumentedKey] = documents.flatMap { name in
        let text = (try? String(contentsOfFile: Paths.packageRoot + "/" + name, encoding: .utf8)) ?? ""
        return keys(in: text, source: name)
    }

    @Test func theDocumentsNameTheNBIoTKeys() {
        let paths = Set(Self.documented.map(\.path))
        // The extraction still understands the documents' format.
        #expect(paths.isSuperset(of: ["lwm2m.command_strategy", "lwm2m.awake_window", "lwm2m.coap_threads",
                                      "listeners.coaps.port", "limits.max_dtls_handshakes", "paths.nbiot_devices"]), "\(paths.sorted())")
        #expect(Self.documented.filter { $0.source == "docs/lwm2m.md" && $0.path.hasPrefix("lwm2m.") }.count >= 13)
    }

    /// A key the docs once listed: the check below would catch it.
    @Test func anUndocumentableKeyIsRejected() {
        #expect(Self.diagnostics(setting: "lwm2m.command_window", to: "20").contains {
            $0.keyPath == "lwm2m.command_window" && $0.problem == "unknown key"
        })
    }

    /// Each documented key is known; with its documented default it draws no problem at all.
    @Test func everyDocumentedKeyIsAccepted() async {
        var seen = Set<String>()
        for key in Self.documented where seen.insert("\(key.path)=\(key.value ?? "")").inserted {
            // A default written as prose (`/etc/…`, "unset") is no TOML value: then only the name is checked.
            let value = key.value.flatMap { text in
                if case .success = TOMLDocumentParser.parse(text: "probe = \(text)\n", file: "probe.toml") { text } else { nil }
            }
            let problems = Self.diagnostics(setting: key.path, to: value ?? "0").filter { $0.keyPath == key.path }
            await Task.yield() // each load reads files: let other tests run in between
            if value == nil {
                #expect(!problems.contains { $0.problem == "unknown key" }, "\(key): \(problems)")
            } else {
                #expect(problems.isEmpty, "\(key) = \(value ?? ""): \(problems)")
            }
        }
    }
}
