import GatewayCore

/// A table while the document is being read: it still accepts keys, and remembers how it
/// came to be, which decides what may still be added to it (TOML defines every table once).
final class TOMLTable {
    enum Origin {
        case root
        /// A prefix of a header (`a` of `[a.b]`): may still get its own `[a]`.
        case implicit
        /// `[a]`.
        case header
        /// `a.b = 1` creates `a`: only more dotted keys may add to it, or headers below it.
        case dotted
        /// An element of an array of tables, `[[a]]`.
        case element
        /// `{ ... }`: closed once read.
        case inline
    }

    var origin: Origin
    /// The line a message points at: the header or key that introduced the table (nil for an implicit one).
    var line: Int?
    /// Where it appeared first, for "defined twice (first at line N)".
    let firstLine: Int
    /// Tables, arrays and values above it; bounded by `TOMLParser.maxDepth`.
    let depth: Int
    private(set) var keys: [String] = []
    private var entries: [String: Entry] = [:]

    enum Entry {
        case value(ConfigNode)
        case table(TOMLTable)
        case tables(TOMLTableArray)
    }

    init(origin: Origin, line: Int?, firstLine: Int, depth: Int) {
        self.origin = origin
        self.line = line
        self.firstLine = firstLine
        self.depth = depth
    }

    subscript(key: String) -> Entry? {
        get { entries[key] }
        set {
            guard let newValue else { return }
            if entries.updateValue(newValue, forKey: key) == nil { keys.append(key) }
        }
    }

    /// The finished table, keys in source order. An implicit table gets the line of the nearest table above it that has one.
    func configTable(inheritedLine: Int?) -> ConfigTable {
        let ownLine = line ?? inheritedLine
        var table = ConfigTable(line: ownLine)
        for key in keys {
            switch entries[key] {
            case .value(let node)?:
                table[key] = node
            case .table(let sub)?:
                let subLine = sub.line ?? ownLine
                table[key] = ConfigNode(.table(sub.configTable(inheritedLine: subLine)), line: subLine)
            case .tables(let array)?:
                let items = array.elements.map { ConfigNode(.table($0.configTable(inheritedLine: $0.line)), line: $0.line) }
                table[key] = ConfigNode(.array(items), line: array.line)
            case nil:
                break
            }
        }
        return table
    }
}

/// The elements of an array of tables, `[[a]]`.
final class TOMLTableArray {
    let line: Int
    var elements: [TOMLTable] = []
    init(line: Int) { self.line = line }
}

/// A key as written: its parts and where each starts, for messages.
struct TOMLKey {
    var parts: [String] = []
    var offsets: [Int] = []
}

/// What an entry is, for "already X, cannot be Y".
extension TOMLTable.Entry {
    var what: String {
        switch self {
        case .value(let node):
            if case .table = node.value { return "an inline table" }
            let name = node.typeName
            return (name.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + name
        case .table(let table):
            switch table.origin {
            case .dotted: return "a table defined by dotted keys"
            case .inline: return "an inline table"
            default: return "a table"
            }
        case .tables: return "an array of tables"
        }
    }

    var firstLine: Int? {
        switch self {
        case .value(let node): node.line
        case .table(let table): table.line ?? table.firstLine
        case .tables(let array): array.line
        }
    }
}
