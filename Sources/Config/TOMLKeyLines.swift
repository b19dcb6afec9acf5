import Foundation

/// Finds the line of every table header and key in TOML text, keyed by the same paths
/// `ConfigReader` prints (`services[0].properties[2].name`).
///
/// Only used for messages: a key it cannot place just gets its table's line.
enum TOMLKeyLines {
    static func scan(_ text: String) -> [String: Int] {
        var lines: [String: Int] = [:]
        var arrayCounts: [String: Int] = [:]   // resolved array-of-tables path → last index
        var currentTable = ""
        var pendingMultiline: String?          // closing quote of an open multi-line string
        var bracketDepth = 0                    // open `[` of a multi-line array value

        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var line = Substring(rawLine)
            if let closing = pendingMultiline {
                guard let range = line.range(of: closing) else { continue }
                pendingMultiline = nil
                line = line[range.upperBound...]
                bracketDepth += depthChange(line)
                continue
            }
            if bracketDepth > 0 {
                bracketDepth = max(0, bracketDepth + depthChange(line))
                continue
            }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }

            if trimmed.hasPrefix("[[") {
                let keys = parseKey(trimmed.dropFirst(2))
                let arrayPath = resolve(keys, counts: arrayCounts)
                let index = (arrayCounts[arrayPath] ?? -1) + 1
                arrayCounts[arrayPath] = index
                currentTable = "\(arrayPath)[\(index)]"
                lines[currentTable] = number
                if lines[arrayPath] == nil { lines[arrayPath] = number }
                continue
            }
            if trimmed.hasPrefix("[") {
                let keys = parseKey(trimmed.dropFirst())
                currentTable = resolve(keys, counts: arrayCounts)
                if lines[currentTable] == nil { lines[currentTable] = number }
                continue
            }
            // key = value
            let keys = parseKey(trimmed)
            guard !keys.isEmpty else { continue }
            var path = currentTable
            for key in keys {
                path = path.isEmpty ? key : "\(path).\(key)"
                if lines[path] == nil { lines[path] = number }
            }
            if let eq = trimmed.firstIndex(of: "=") {
                let value = trimmed[trimmed.index(after: eq)...].drop { $0 == " " || $0 == "\t" }
                for quote in ["\"\"\"", "'''"] where value.hasPrefix(quote) {
                    let rest = value.dropFirst(3)
                    if !rest.contains(quote) { pendingMultiline = quote }
                }
                if pendingMultiline == nil { bracketDepth = max(0, depthChange(value)) }
            }
        }
        return lines
    }

    /// Joins header keys into a path, pointing into the newest element of each array of tables.
    private static func resolve(_ keys: [String], counts: [String: Int]) -> String {
        var path = ""
        for (i, key) in keys.enumerated() {
            path = path.isEmpty ? key : "\(path).\(key)"
            if i < keys.count - 1, let index = counts[path] { path += "[\(index)]" }
        }
        return path
    }

    /// Reads a dotted key (bare or quoted parts) up to `=`, `]` or the end.
    private static func parseKey(_ text: Substring) -> [String] {
        var keys: [String] = []
        var current = ""
        var quote: Character?
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\"", "'": quote = ch
            case ".": keys.append(current); current = ""
            case " ", "\t": continue
            case "=", "]": keys.append(current); return keys.filter { !$0.isEmpty }
            default: current.append(ch)
            }
        }
        return []
    }

    /// Net `[` minus `]` outside strings and comments.
    private static func depthChange(_ text: Substring) -> Int {
        var depth = 0
        var quote: Character?
        for ch in text {
            if let q = quote { if ch == q { quote = nil }; continue }
            switch ch {
            case "\"", "'": quote = ch
            case "#": return depth
            case "[": depth += 1
            case "]": depth -= 1
            default: break
            }
        }
        return depth
    }
}
