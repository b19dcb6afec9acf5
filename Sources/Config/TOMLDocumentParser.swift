import Foundation
import GatewayCore
import TOMLKit

/// Parses TOML text into a `ConfigDocument` with a line for every key.
///
/// TOMLKit gives positions only for syntax errors, so key lines come from `TOMLKeyLines`,
/// a scan of the text that follows table headers and key assignments.
public enum TOMLDocumentParser {
    public static func parse(text: String, file: String) -> Result<ConfigDocument, ConfigDiagnostic> {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            return .failure(ConfigDiagnostic(file: file, line: error.source.begin.line, keyPath: "",
                                             problem: "invalid TOML: \(error.description)",
                                             fix: "check the syntax near column \(error.source.begin.column)"))
        } catch {
            return .failure(ConfigDiagnostic(file: file, line: nil, keyPath: "", problem: "invalid TOML: \(error)"))
        }
        let lines = TOMLKeyLines.scan(text)
        var root = convert(table: table, path: "", lines: lines)
        root.line = nil
        return .success(ConfigDocument(file: file, root: root))
    }

    /// Reads and parses a file; an unreadable or non-UTF-8 file is a diagnostic, not a crash.
    public static func load(path: String) -> Result<ConfigDocument, ConfigDiagnostic> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            return .failure(ConfigDiagnostic(file: path, line: nil, keyPath: "", problem: "file \(reason)",
                                             fix: "check the path and that the edgegw user can read it"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ConfigDiagnostic(file: path, line: nil, keyPath: "", problem: "file is not UTF-8 text"))
        }
        return parse(text: text, file: path)
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func convert(table: TOMLTable, path: String, lines: [String: Int]) -> ConfigTable {
        var result = ConfigTable(line: lines[path])
        // toml++ sorts keys; put them back in source order where the scan saw them.
        let keys = table.keys.sorted { a, b in
            (lines[join(path, a)] ?? .max, a) < (lines[join(path, b)] ?? .max, b)
        }
        for key in keys {
            guard let value = table[key] else { continue }
            let keyPath = join(path, key)
            result[key] = convert(value: value, path: keyPath, line: lines[keyPath] ?? result.line, lines: lines)
        }
        return result
    }

    private static func convert(value: TOMLValueConvertible, path: String, line: Int?, lines: [String: Int]) -> ConfigNode {
        switch value.type {
        case .table:
            guard let table = value.table else { return ConfigNode(.string(""), line: line) }
            var converted = convert(table: table, path: path, lines: lines)
            if converted.line == nil { converted.line = line }
            return ConfigNode(.table(converted), line: line)
        case .array:
            guard let array = value.array else { return ConfigNode(.array([]), line: line) }
            var items: [ConfigNode] = []
            for (index, item) in array.enumerated() {
                let itemPath = "\(path)[\(index)]"
                items.append(convert(value: item, path: itemPath, line: lines[itemPath] ?? line, lines: lines))
            }
            return ConfigNode(.array(items), line: line)
        case .string: return ConfigNode(.string(value.string ?? ""), line: line)
        case .int: return ConfigNode(.integer(Int64(value.int ?? 0)), line: line)
        case .double: return ConfigNode(.float(value.double ?? 0), line: line)
        case .bool: return ConfigNode(.bool(value.bool ?? false), line: line)
        case .date, .time, .dateTime: return ConfigNode(.dateTime(value.debugDescription), line: line)
        }
    }
}
