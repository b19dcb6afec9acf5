import Foundation

/// Typed access to one config table that records every problem and every key it was asked
/// about, so `finish()` can flag the keys nobody asked about: a typo must not pass silently.
///
/// Readers return `nil` after reporting a problem; callers carry on to find more problems.
public final class ConfigReader {
    public let table: ConfigTable
    public let file: String
    /// Key path of this table, empty for the file's root.
    public let path: String
    public let diagnostics: ConfigDiagnostics
    private var consumed: Set<String> = []

    public init(table: ConfigTable, file: String, path: String = "", diagnostics: ConfigDiagnostics) {
        self.table = table
        self.file = file
        self.path = path
        self.diagnostics = diagnostics
    }

    public convenience init(document: ConfigDocument, diagnostics: ConfigDiagnostics) {
        self.init(table: document.root, file: document.file, diagnostics: diagnostics)
    }

    // MARK: - Locations and reporting

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The line of a key, or of this table when the key is absent.
    public func line(of key: String) -> Int? { table[key]?.line ?? table.line }

    public func report(_ key: String?, _ problem: String, fix: String? = nil) {
        let keyPath = key.map(self.keyPath) ?? path
        let line = key.flatMap { table[$0]?.line } ?? table.line
        diagnostics.report(file: file, line: line, keyPath: keyPath, problem: problem, fix: fix)
    }

    public func has(_ key: String) -> Bool { table[key] != nil }

    /// Marks a key as known without reading it (for keys another reader handles).
    public func markKnown(_ keys: String...) { consumed.formUnion(keys) }

    // MARK: - Scalars

    private func node(_ key: String, required: Bool, fix: String?) -> ConfigNode? {
        consumed.insert(key)
        guard let node = table[key] else {
            if required { report(key, "required key is missing", fix: fix ?? "add `\(key) = …` to [\(path.isEmpty ? "top level" : path)]") }
            return nil
        }
        return node
    }

    private func typeMismatch(_ key: String, expected: String, found: ConfigNode) {
        report(key, "expected \(expected), found \(found.typeName)")
    }

    public func string(_ key: String, required: Bool = true, fix: String? = nil) -> String? {
        guard let node = node(key, required: required, fix: fix) else { return nil }
        guard case .string(let value) = node.value else { typeMismatch(key, expected: "string", found: node); return nil }
        return value
    }

    /// A non-empty string.
    public func nonEmptyString(_ key: String, required: Bool = true, fix: String? = nil) -> String? {
        guard let value = string(key, required: required, fix: fix) else { return nil }
        if value.isEmpty { report(key, "must not be empty", fix: fix); return nil }
        return value
    }

    public func int(_ key: String, required: Bool = true, range: ClosedRange<Int64>? = nil, fix: String? = nil) -> Int64? {
        guard let node = node(key, required: required, fix: fix) else { return nil }
        guard case .integer(let value) = node.value else { typeMismatch(key, expected: "integer", found: node); return nil }
        if let range, !range.contains(value) {
            report(key, "\(value) is out of range", fix: fix ?? "use a value from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    /// An integer key read as `Int`, with a default when absent.
    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>, fix: String? = nil) -> Int {
        guard has(key) else { consumed.insert(key); return defaultValue }
        let wide = range.lowerBound.toInt64...range.upperBound.toInt64
        return int(key, required: false, range: wide, fix: fix).map { Int($0) } ?? defaultValue
    }

    /// A number; integers are accepted where a float is asked for.
    public func double(_ key: String, required: Bool = true, range: ClosedRange<Double>? = nil, fix: String? = nil) -> Double? {
        guard let node = node(key, required: required, fix: fix) else { return nil }
        let value: Double
        switch node.value {
        case .float(let v): value = v
        case .integer(let v): value = Double(v)
        default: typeMismatch(key, expected: "number", found: node); return nil
        }
        if let range, !range.contains(value) {
            report(key, "\(value) is out of range", fix: fix ?? "use a value from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    public func bool(_ key: String, required: Bool = true, fix: String? = nil) -> Bool? {
        guard let node = node(key, required: required, fix: fix) else { return nil }
        guard case .bool(let value) = node.value else { typeMismatch(key, expected: "boolean (true or false)", found: node); return nil }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        bool(key, required: false) ?? defaultValue
    }

    /// A string that must be one of a fixed set of words.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type, required: Bool = true) -> T?
    where T.RawValue == String {
        guard let raw = string(key, required: required) else { return nil }
        guard let value = T(rawValue: raw) else {
            let words = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            report(key, "unknown value \"\(raw)\"", fix: "use one of \(words)")
            return nil
        }
        return value
    }

    /// Raw node access for keys whose type varies (a number or a string, say).
    public func rawNode(_ key: String, required: Bool = false) -> ConfigNode? {
        node(key, required: required, fix: nil)
    }

    public func stringArray(_ key: String, required: Bool = true) -> [String]? {
        guard let node = node(key, required: required, fix: nil) else { return nil }
        guard case .array(let items) = node.value else { typeMismatch(key, expected: "array of strings", found: node); return nil }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let s) = item.value else {
                diagnostics.report(file: file, line: item.line ?? node.line, keyPath: "\(keyPath(key))[\(index)]",
                                   problem: "expected string, found \(item.typeName)")
                return nil
            }
            result.append(s)
        }
        return result
    }

    // MARK: - Nested tables

    /// A sub-table (`[a.b]` or an inline table).
    public func table(_ key: String, required: Bool = false) -> ConfigReader? {
        guard let node = node(key, required: required, fix: nil) else { return nil }
        guard case .table(var sub) = node.value else { typeMismatch(key, expected: "table", found: node); return nil }
        if sub.line == nil { sub.line = node.line }
        return ConfigReader(table: sub, file: file, path: keyPath(key), diagnostics: diagnostics)
    }

    /// An array of tables (`[[a.b]]`); each element gets a reader with an indexed path.
    public func tables(_ key: String, required: Bool = false) -> [ConfigReader] {
        guard let node = node(key, required: required, fix: nil) else { return [] }
        guard case .array(let items) = node.value else { typeMismatch(key, expected: "array of tables", found: node); return [] }
        var readers: [ConfigReader] = []
        for (index, item) in items.enumerated() {
            guard case .table(var sub) = item.value else {
                diagnostics.report(file: file, line: item.line ?? node.line, keyPath: "\(keyPath(key))[\(index)]",
                                   problem: "expected table, found \(item.typeName)")
                continue
            }
            if sub.line == nil { sub.line = item.line ?? node.line }
            readers.append(ConfigReader(table: sub, file: file, path: "\(keyPath(key))[\(index)]", diagnostics: diagnostics))
        }
        return readers
    }

    // MARK: - Unknown keys

    /// Reports every key of this table that no reader asked about.
    public func finish() {
        let known = consumed
        for key in table.keys where !known.contains(key) {
            let suggestion = Self.closest(to: key, in: known)
            let fix = suggestion.map { "did you mean `\($0)`?" } ?? "remove it, or check the sample config for the right name"
            report(key, "unknown key", fix: fix)
        }
    }

    /// The known name closest to a misspelt one, for "did you mean". Case is ignored and two
    /// swapped neighbours count as one edit ("pks" → "psk"). Within `maxDistance` edits, by
    /// default 2 or a third of the name's length; ties go to the first name in sorted order.
    public static func closest(to key: String, in candidates: Set<String>, maxDistance: Int? = nil) -> String? {
        let limit = maxDistance ?? max(2, key.count / 3)
        let name = key.lowercased()
        let length = name.count
        var best: (String, Int)?
        for candidate in candidates.sorted() {
            // The distance is at least the difference in length: a name that long is no typo of
            // this one, and its table (one row per character) is not built.
            guard abs(candidate.count - length) <= limit else { continue }
            let distance = editDistance(name, candidate.lowercased())
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Edit distance where swapping two neighbours counts as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

extension Int {
    fileprivate var toInt64: Int64 { Int64(self) }
}
