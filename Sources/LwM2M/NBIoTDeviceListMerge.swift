import Foundation

/// Merges rows of the platform's template into the text of edgegw's device list (CSV): a node id
/// already listed gets the template's cells in the platform's columns and keeps edgegw's own
/// (pskIdentity, uplinkPath, downlinkPath, pcp); a new node id is appended. Every other line —
/// comments, blank lines, devices not in the template — stays byte for byte.
/// Template keys are hex; the list writes them as `hex:<digits>`, which it cannot read as text.
public enum NBIoTDeviceListMerge {
    public struct Outcome: Sendable, Equatable {
        public var text: String
        public var added: [String] = []
        public var updated: [String] = []
        public var unchanged: [String] = []
    }

    /// Heads a list this creates.
    public static let newListComment = "# NB-IoT devices (docs/bootstrap.md), from the platform's template by edgegw provision import.\n"

    /// `existing` is the list's text (nil: no list yet) and is taken to parse (the configuration loaded).
    public static func merge(_ rows: [PlatformDeviceRow], into existing: String?) -> Outcome {
        var lines = splitLines(existing ?? "")
        guard let headerIndex = lines.firstIndex(where: isRow) else {
            var text = existing ?? ""
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            if text.isEmpty { text = newListComment }
            text += PlatformDeviceTemplate.columns.joined(separator: ",") + "\n"
            var outcome = Outcome(text: text)
            for row in rows {
                outcome.text += render(cells(row, columns: PlatformDeviceTemplate.columns, keeping: [])) + "\n"
                outcome.added.append(row.nodeId)
            }
            return outcome
        }
        let newline = lines[headerIndex].terminator.isEmpty ? "\n" : lines[headerIndex].terminator
        var columns = headerColumns(lines[headerIndex].content)
        // A platform column the list lacks is added to its header when a row fills it; the
        // list's other rows then simply have fewer cells, which it allows.
        let missing = PlatformDeviceTemplate.columns.filter { column in
            !columns.contains(column) && rows.contains { row in !listCells(row)[column, default: ""].isEmpty }
        }
        if !missing.isEmpty {
            lines[headerIndex].content += "," + missing.joined(separator: ",")
            columns += missing
        }
        var lineOfNode: [String: Int] = [:]
        if let nodeColumn = columns.firstIndex(of: "nodeId") {
            for index in lines.indices where index > headerIndex && isRow(lines[index]) {
                guard let cells = NBIoTDeviceList.splitCSV(lines[index].content), nodeColumn < cells.count else { continue }
                let nodeId = cells[nodeColumn].trimmingCharacters(in: .whitespaces)
                if lineOfNode[nodeId] == nil { lineOfNode[nodeId] = index }
            }
        }
        var outcome = Outcome(text: "")
        var appended: [String] = []
        for row in rows {
            if let index = lineOfNode[row.nodeId] {
                let kept = (NBIoTDeviceList.splitCSV(lines[index].content) ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
                let merged = cells(row, columns: columns, keeping: kept)
                let before = columns.indices.map { $0 < kept.count ? kept[$0] : "" }
                if merged == before {
                    outcome.unchanged.append(row.nodeId)
                } else {
                    lines[index].content = render(merged)
                    outcome.updated.append(row.nodeId)
                }
            } else {
                appended.append(render(cells(row, columns: columns, keeping: [])))
                outcome.added.append(row.nodeId)
            }
        }
        if !appended.isEmpty, let last = lines.indices.last, lines[last].terminator.isEmpty {
            if lines[last].content.isEmpty { lines.removeLast() } else { lines[last].terminator = newline }
        }
        outcome.text = lines.map { $0.content + $0.terminator }.joined() + appended.map { $0 + newline }.joined()
        return outcome
    }

    /// The row's cells as the list writes them, by column.
    static func listCells(_ row: PlatformDeviceRow) -> [String: String] {
        func key(_ hex: String) -> String { hex.isEmpty ? "" : "hex:" + hex.lowercased() }
        return ["nodeId": row.nodeId, "name": row.name, "productId": row.productId, "strategyTypeId": row.strategyTypeId,
                "funcName": row.funcName, "psk": key(row.psk), "bootstrapPsk": key(row.bootstrapPsk), "secure": row.secure,
                "lifeTime": row.lifeTime, "secret": row.secret]
    }

    /// The cells of the list line for `row` under `columns`: the platform's columns from the
    /// row, edgegw's own from `keeping` (the cells of the line it replaces).
    static func cells(_ row: PlatformDeviceRow, columns: [String], keeping: [String]) -> [String] {
        let platform = listCells(row)
        return columns.enumerated().map { index, column in
            platform[column] ?? (index < keeping.count ? keeping[index] : "")
        }
    }

    static func render(_ cells: [String]) -> String {
        cells.map(PlatformDeviceTemplate.quoted).joined(separator: ",")
    }

    static func headerColumns(_ content: String) -> [String] {
        let text = content.first == PlatformDeviceTemplate.byteOrderMark ? String(content.dropFirst()) : content
        return (NBIoTDeviceList.splitCSV(text) ?? []).map {
            let name = $0.trimmingCharacters(in: .whitespaces)
            return NBIoTDeviceList.columnAliases[name] ?? name
        }
    }

    struct Line {
        var content: String
        /// "\n", "\r\n", or "" for a last line without one.
        var terminator: String
    }

    static func isRow(_ line: Line) -> Bool {
        !line.content.trimmingCharacters(in: .whitespaces).isEmpty && !line.content.hasPrefix("#")
    }

    static func splitLines(_ text: String) -> [Line] {
        var lines: [Line] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            guard let end = rest.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) else {
                lines.append(Line(content: String(rest), terminator: ""))
                break
            }
            // "\r\n" is one Character in Swift, not "\n": both end a line.
            let content = rest[..<end]
            lines.append(Line(content: String(content), terminator: String(rest[end])))
            rest = rest[rest.index(after: end)...]
        }
        return lines
    }
}
