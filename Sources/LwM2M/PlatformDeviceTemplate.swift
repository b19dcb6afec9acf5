import Foundation
import GatewayCore

/// One row of the provisioning platform's batch template, every cell as written (trimmed).
/// The keys are the template's hex text; `PlatformDeviceTemplate` checks them.
public struct PlatformDeviceRow: Sendable, Equatable {
    /// Where the row was read (1-based); 0 for a row built in memory.
    public var line: Int
    public var nodeId: String
    public var name: String
    public var productId: String
    public var strategyTypeId: String
    public var funcName: String
    public var psk: String
    public var bootstrapPsk: String
    public var secure: String
    public var lifeTime: String
    public var secret: String

    public init(line: Int = 0, nodeId: String, name: String = "", productId: String, strategyTypeId: String = "",
                funcName: String = "", psk: String = "", bootstrapPsk: String = "", secure: String = "",
                lifeTime: String = "", secret: String = "") {
        self.line = line
        self.nodeId = nodeId
        self.name = name
        self.productId = productId
        self.strategyTypeId = strategyTypeId
        self.funcName = funcName
        self.psk = psk
        self.bootstrapPsk = bootstrapPsk
        self.secure = secure
        self.lifeTime = lifeTime
        self.secret = secret
    }

    /// The cells by the template's column names (`PlatformDeviceTemplate.columns`).
    public init(line: Int, cells: [String: String]) {
        self.init(line: line, nodeId: cells["nodeId"] ?? "", name: cells["name"] ?? "", productId: cells["productId"] ?? "",
                  strategyTypeId: cells["strategyTypeId"] ?? "", funcName: cells["funcName"] ?? "", psk: cells["psk"] ?? "",
                  bootstrapPsk: cells["bootstrapPsk"] ?? "", secure: cells["secure"] ?? "", lifeTime: cells["lifeTime"] ?? "",
                  secret: cells["secret"] ?? "")
    }

    /// The cells in the template's column order.
    public var cells: [String] {
        [nodeId, name, productId, strategyTypeId, funcName, psk, bootstrapPsk, secure, lifeTime, secret]
    }
}

/// The provisioning platform's batch template for NB-IoT devices (seed UG §11.4.1; spec
/// lwm2m-coap §4.6): `nodeId, name, productId, strategyTypeId, funcName, psk, bootstrapPsk,
/// secure, lifeTime, secret`, the keys also spelled `pk` / `bootstrapPk`. Reads it with a
/// problem per cell at `file:line` (`PlatformDeviceTemplate+Rules.swift`) and writes it back.
public enum PlatformDeviceTemplate {
    /// The template's columns, in its order (the same as the device list's platform columns).
    public static let columns = NBIoTDeviceList.platformColumns
    /// Columns a row cannot do without.
    public static let requiredColumns = ["nodeId", "productId"]
    /// The key columns: written only to a file only its owner may read.
    public static let keyColumns: Set<String> = ["psk", "bootstrapPsk", "secret"]
    /// Most rows in one template (bounded memory for a wrong file).
    public static let maxRows = NBIoTDeviceList.maxDevices
    /// Excel writes one at the start of a CSV saved as UTF-8.
    static let byteOrderMark: Character = "\u{FEFF}"

    /// The rows of a template file, and every problem of its header, its cells and its rows.
    /// A row with a problem is still returned (with the others) so that all are listed at once.
    public static func read(_ text: String, file: String, knownProducts: Set<String>?, diagnostics: ConfigDiagnostics)
        -> [PlatformDeviceRow] {
        var header: [String]?
        var spelled: [String: String] = [:]
        var rows: [PlatformDeviceRow] = []
        let body = text.first == byteOrderMark ? String(text.dropFirst()) : text
        // "\r\n" is one Character in Swift, not "\n": a CRLF file splits on it too.
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let cells = NBIoTDeviceList.splitCSV(line) else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "", problem: "unterminated quoted field",
                                   fix: "close the double quote; a cell cannot span lines")
                continue
            }
            guard let columns = header else {
                guard let read = readHeader(cells, file: file, line: lineNumber, diagnostics: diagnostics) else { return [] }
                header = read
                // Problems name a column as the file spells it (`pk` or `psk`).
                for (column, cell) in zip(read, cells) { spelled[column] = cell.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard rows.count < maxRows else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "", problem: "more than \(maxRows) rows",
                                   fix: "split the file")
                break
            }
            guard cells.count <= columns.count else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "",
                                   problem: "\(cells.count) cells but the header names \(columns.count) columns",
                                   fix: "quote cells that contain commas")
                continue
            }
            var named: [String: String] = [:]
            for (index, cell) in cells.enumerated() { named[columns[index]] = cell.trimmingCharacters(in: .whitespaces) }
            rows.append(PlatformDeviceRow(line: lineNumber, cells: named))
        }
        guard header != nil else {
            diagnostics.report(file: file, line: nil, keyPath: "", problem: "no header line",
                               fix: "start with: \(columns.joined(separator: ","))")
            return []
        }
        check(rows, file: file, knownProducts: knownProducts, spelled: spelled, diagnostics: diagnostics)
        return rows
    }

    /// The header's columns by their template names; nil (with the problems) for a header that
    /// is not the template's.
    static func readHeader(_ cells: [String], file: String, line: Int, diagnostics: ConfigDiagnostics) -> [String]? {
        let known = Set(columns)
        var seen: [String: String] = [:]
        var result: [String] = []
        var ok = true
        for cell in cells {
            let spelled = cell.trimmingCharacters(in: .whitespaces)
            let column = NBIoTDeviceList.columnAliases[spelled] ?? spelled
            if !known.contains(column) {
                let hint = ConfigReader.closest(to: spelled, in: known, maxDistance: 2)
                diagnostics.report(file: file, line: line, keyPath: spelled, problem: "not a column of the platform's template",
                                   fix: hint.map { "did you mean \($0)?" } ?? "columns are \(columns.joined(separator: ","))")
                ok = false
            } else if let earlier = seen[column] {
                diagnostics.report(file: file, line: line, keyPath: spelled, problem: "the same column as \(earlier)",
                                   fix: "keep one of them")
                ok = false
            }
            seen[column] = spelled
            result.append(column)
        }
        for required in requiredColumns where !result.contains(required) {
            diagnostics.report(file: file, line: line, keyPath: required, problem: "missing required column",
                               fix: "start with: \(columns.joined(separator: ","))")
            ok = false
        }
        return ok ? result : nil
    }

    /// The template text of `rows`: the header (`psk`, `bootstrapPsk` spelling), then one line
    /// per row; cells quoted only when they must be (RFC 4180).
    public static func render(_ rows: [PlatformDeviceRow]) -> String {
        var text = columns.joined(separator: ",") + "\n"
        for row in rows { text += row.cells.map(quoted).joined(separator: ",") + "\n" }
        return text
    }

    /// A CSV cell as written: in double quotes when it holds a comma, a quote, a line break or
    /// leading/trailing blanks (which a reader would trim), or begins with `#` (first on its line,
    /// it would make the line a comment), quotes doubled.
    public static func quoted(_ cell: String) -> String {
        let needsQuotes = cell.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
            || cell.first?.isWhitespace == true || cell.last?.isWhitespace == true || cell.first == "#"
        guard needsQuotes else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
