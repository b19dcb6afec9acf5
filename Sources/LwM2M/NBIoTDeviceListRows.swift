import Foundation
import GatewayCore

/// One device-list row's cells as written (trimmed), by column name (aliases resolved), and the
/// line it is on: what `edgegw provision export` writes back and `list` reads a key's source from.
public struct NBIoTDeviceListRow: Sendable, Equatable {
    public var line: Int
    public var cells: [String: String]

    public init(line: Int, cells: [String: String]) {
        self.line = line
        self.cells = cells
    }

    public subscript(column: String) -> String { cells[column] ?? "" }
}

/// Reads the rows of a device list that `NBIoTDeviceList` accepted (it reports the problems;
/// this only keeps the cells it does not).
public enum NBIoTDeviceListRows {
    /// The rows of the CSV form, by node id (the first row of a node id).
    public static func read(_ text: String) -> [String: NBIoTDeviceListRow] {
        var header: [String]?
        var rows: [String: NBIoTDeviceListRow] = [:]
        // "\r\n" is one Character in Swift, not "\n": a CRLF file splits on it too.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let cells = NBIoTDeviceList.splitCSV(line) else { continue }
            guard let columns = header else {
                header = cells.map {
                    let name = $0.trimmingCharacters(in: .whitespaces)
                    return NBIoTDeviceList.columnAliases[name] ?? name
                }
                continue
            }
            var named: [String: String] = [:]
            for (index, cell) in cells.enumerated() where index < columns.count {
                named[columns[index]] = cell.trimmingCharacters(in: .whitespaces)
            }
            let nodeId = named["nodeId"] ?? ""
            if rows[nodeId] == nil { rows[nodeId] = NBIoTDeviceListRow(line: offset + 1, cells: named) }
        }
        return rows
    }

    /// The rows of the TOML form (`[[devices]]` tables), by node id; numbers and booleans as text.
    public static func read(toml document: ConfigDocument) -> [String: NBIoTDeviceListRow] {
        let root = ConfigReader(document: document, diagnostics: ConfigDiagnostics())
        var rows: [String: NBIoTDeviceListRow] = [:]
        let keys = NBIoTDeviceList.platformColumns + NBIoTDeviceList.edgegwColumns + Array(NBIoTDeviceList.columnAliases.keys)
        for table in root.tables("devices") {
            var named: [String: String] = [:]
            for key in keys {
                guard let node = table.rawNode(key) else { continue }
                let column = NBIoTDeviceList.columnAliases[key] ?? key
                switch node.value {
                case .string(let text): named[column] = text
                case .integer(let number): named[column] = String(number)
                case .bool(let flag): named[column] = flag ? "true" : "false"
                default: continue
                }
            }
            let nodeId = named["nodeId"] ?? ""
            if rows[nodeId] == nil { rows[nodeId] = NBIoTDeviceListRow(line: table.line(of: "nodeId") ?? 0, cells: named) }
        }
        return rows
    }
}
