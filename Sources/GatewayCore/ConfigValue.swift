import Foundation

/// A parsed configuration value with the line it came from.
///
/// Config files are TOML, parsed by the `Config` module; every other module reads this
/// Foundation-only tree so that file formats stay out of the pure modules.
public struct ConfigNode: Sendable, Equatable {
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case bool(Bool)
        /// Dates and times are kept as their TOML text; nothing in edgegw computes with them.
        case dateTime(String)
        case array([ConfigNode])
        case table(ConfigTable)
    }

    public var value: Value
    /// 1-based line in the source file, where it is known.
    public var line: Int?

    public init(_ value: Value, line: Int? = nil) {
        self.value = value
        self.line = line
    }

    /// The word a technician sees in "expected X, found Y".
    public var typeName: String {
        switch value {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .dateTime: "date-time"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A table: keys in source order (TOML libraries sort them; order matters for messages).
public struct ConfigTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: ConfigNode] = [:]
    /// Line of the table header, or of the key that holds an inline table.
    public var line: Int?

    public init(line: Int? = nil) { self.line = line }

    public subscript(key: String) -> ConfigNode? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var isEmpty: Bool { keys.isEmpty }
}

/// One parsed file.
public struct ConfigDocument: Sendable, Equatable {
    public var file: String
    public var root: ConfigTable

    public init(file: String, root: ConfigTable) {
        self.file = file
        self.root = root
    }
}
