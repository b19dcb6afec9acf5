import GatewayCore

/// A strict TOML 1.0 reader: every value with the line of the key that holds it, every mistake
/// a `TOMLSyntaxError` with line and column. It never traps: reads are bounds-checked by
/// `TOMLCursor`, integers are checked for overflow, and nesting is bounded.
struct TOMLParser {
    /// Tables, arrays and inline tables inside each other, headers and dotted keys included.
    static let maxDepth = 128
    /// A config file is a few KiB; this only keeps a wrong path (a log, /dev/zero) from exhausting memory.
    static let maxBytes = 16 * 1_048_576

    private var cursor: TOMLCursor
    private let root = TOMLTable(origin: .root, line: nil, firstLine: 1, depth: 0)
    private var current: TOMLTable
    /// Key path of `current` as `ConfigReader` prints it (`services[0].properties[1]`).
    private var currentPath = ""

    static func parse(_ bytes: [UInt8]) throws(TOMLSyntaxError) -> ConfigTable {
        guard bytes.count <= maxBytes else { throw TOMLSyntaxError(.inputTooLarge(limit: maxBytes), line: 1, column: 1) }
        var parser = try TOMLParser(TOMLCursor(bytes))
        try parser.document()
        return parser.root.configTable(inheritedLine: nil)
    }

    private init(_ cursor: TOMLCursor) {
        self.cursor = cursor
        current = root
    }

    private mutating func document() throws(TOMLSyntaxError) {
        while true {
            cursor.skipSpaces()
            cursor.skipComment()
            if cursor.atEnd { return }
            if cursor.takeNewline() { continue }
            if cursor.peek() == UInt8(ascii: "[") {
                try header()
            } else {
                try keyValue(into: current, path: currentPath, line: cursor.line(at: cursor.offset))
            }
            try cursor.expectLineEnd()
        }
    }

    // MARK: - Headers

    /// `[a.b]` or `[[a.b]]`: makes the named table current.
    private mutating func header() throws(TOMLSyntaxError) {
        let line = cursor.line(at: cursor.offset)
        cursor.advance()
        let isArray = cursor.take(UInt8(ascii: "["))
        cursor.skipSpaces()
        let key = try self.key()
        cursor.skipSpaces()
        guard cursor.take(UInt8(ascii: "]")) else { throw cursor.unexpected(isArray ? "']]'" : "']'") }
        if isArray, !cursor.take(UInt8(ascii: "]")) { throw cursor.unexpected("']]'") }

        let (table, parentPath) = try parent(of: key, line: line)
        guard let name = key.parts.last, let at = key.offsets.last else { throw cursor.unexpected("a key") }
        let path = parentPath.isEmpty ? name : "\(parentPath).\(name)"
        let existing = table[name]
        if isArray {
            let array: TOMLTableArray
            switch existing {
            case nil:
                array = TOMLTableArray(line: line)
                table[name] = .tables(array)
            case .tables(let known)?:
                array = known
            default:
                throw conflict(path, existing, wanted: "cannot also be an array of tables", at: at)
            }
            let element = try newTable(.element, line: line, firstLine: line, depth: table.depth + 2, at: at)
            array.elements.append(element)
            current = element
            currentPath = "\(path)[\(array.elements.count - 1)]"
            return
        }
        switch existing {
        case nil:
            let defined = try newTable(.header, line: line, firstLine: line, depth: table.depth + 1, at: at)
            table[name] = .table(defined)
            current = defined
        case .table(let known)? where known.origin == .implicit:
            known.origin = .header
            if known.line == nil { known.line = line }
            current = known
        case .table(let known)? where known.origin == .header || known.origin == .element:
            throw cursor.error(.duplicateTable(path: path, firstLine: known.line ?? known.firstLine), at: at)
        default:
            throw conflict(path, existing, wanted: "cannot also be a [table]", at: at)
        }
        currentPath = path
    }

    /// The table a header's last part goes into; the parts before it are created as implicit
    /// tables where missing, and an array of tables stands for its newest element.
    private func parent(of key: TOMLKey, line: Int) throws(TOMLSyntaxError) -> (TOMLTable, String) {
        var table = root
        var path = ""
        for (name, at) in zip(key.parts, key.offsets).dropLast() {
            path = path.isEmpty ? name : "\(path).\(name)"
            let existing = table[name]
            switch existing {
            case nil:
                let implicit = try newTable(.implicit, line: nil, firstLine: line, depth: table.depth + 1, at: at)
                table[name] = .table(implicit)
                table = implicit
            case .table(let sub)?:
                table = sub
            case .tables(let array)?:
                guard let last = array.elements.last else { throw conflict(path, existing, wanted: "cannot hold a table", at: at) }
                path += "[\(array.elements.count - 1)]"
                table = last
            case .value?:
                throw conflict(path, existing, wanted: "cannot also be a table", at: at)
            }
        }
        return (table, path)
    }

    private func newTable(_ origin: TOMLTable.Origin, line: Int?, firstLine: Int, depth: Int, at offset: Int) throws(TOMLSyntaxError) -> TOMLTable {
        guard depth <= Self.maxDepth else { throw cursor.error(.nestingTooDeep(limit: Self.maxDepth), at: offset) }
        return TOMLTable(origin: origin, line: line, firstLine: firstLine, depth: depth)
    }

    private func conflict(_ path: String, _ existing: TOMLTable.Entry?, wanted: String, at offset: Int) -> TOMLSyntaxError {
        cursor.error(.conflict(path: path, existing: existing?.what ?? "defined", firstLine: existing?.firstLine, wanted: wanted), at: offset)
    }

    // MARK: - Keys and values

    /// `a.b."c" = value` into `table` (a section or an inline table). `line` is the line every
    /// node it creates gets.
    private mutating func keyValue(into table: TOMLTable, path tablePath: String, line: Int) throws(TOMLSyntaxError) {
        let key = try self.key()
        cursor.skipSpaces()
        guard cursor.take(UInt8(ascii: "=")) else { throw cursor.unexpected("'=' after the key") }
        cursor.skipSpaces()
        let value = try self.value(line: line, depth: table.depth + key.parts.count)

        var target = table
        var path = tablePath
        for (index, name) in key.parts.enumerated() {
            path = path.isEmpty ? name : "\(path).\(name)"
            let at = key.offsets[index]
            let existing = target[name]
            if index == key.parts.count - 1 {
                switch existing {
                case nil: target[name] = .value(value)
                case .value?: throw cursor.error(.duplicateKey(path: path, firstLine: existing?.firstLine), at: at)
                default: throw conflict(path, existing, wanted: "cannot also be a value", at: at)
                }
                return
            }
            switch existing {
            case nil:
                let dotted = try newTable(.dotted, line: line, firstLine: line, depth: target.depth + 1, at: at)
                target[name] = .table(dotted)
                target = dotted
            case .table(let sub)? where sub.origin == .dotted:
                target = sub
            default:
                throw conflict(path, existing, wanted: "cannot be extended with dotted keys", at: at)
            }
        }
    }

    /// A dotted key: bare (`A-Za-z0-9_-`) or quoted parts, spaces allowed around the dots.
    private mutating func key() throws(TOMLSyntaxError) -> TOMLKey {
        var key = TOMLKey()
        while true {
            key.offsets.append(cursor.offset)
            key.parts.append(try simpleKey())
            cursor.skipSpaces()
            guard cursor.take(UInt8(ascii: ".")) else { return key }
            cursor.skipSpaces()
        }
    }

    private mutating func simpleKey() throws(TOMLSyntaxError) -> String {
        guard let byte = cursor.peek() else { throw cursor.unexpected("a key") }
        if byte == TOMLCursor.quote || byte == TOMLCursor.apostrophe { return try cursor.string(allowMultiline: false) }
        let start = cursor.offset
        while let byte = cursor.peek(), Self.isBareKeyByte(byte) { cursor.advance() }
        guard cursor.offset > start else { throw cursor.unexpected("a key") }
        return cursor.text(start..<cursor.offset)
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// A value at `depth` (the table holding it is one less). Every node gets `line`.
    private mutating func value(line: Int, depth: Int) throws(TOMLSyntaxError) -> ConfigNode {
        guard depth <= Self.maxDepth else { throw cursor.error(.nestingTooDeep(limit: Self.maxDepth)) }
        switch cursor.peek() {
        case nil, TOMLCursor.lineFeed?, TOMLCursor.carriageReturn?, UInt8(ascii: "#")?:
            throw cursor.unexpected("a value")
        case TOMLCursor.quote?, TOMLCursor.apostrophe?:
            return ConfigNode(.string(try cursor.string()), line: line)
        case UInt8(ascii: "[")?:
            return try array(line: line, depth: depth)
        case UInt8(ascii: "{")?:
            return try inlineTable(line: line, depth: depth)
        default:
            return ConfigNode(try cursor.scalar(), line: line)
        }
    }

    /// `[v, v, ...]` over any number of lines, with comments and a trailing comma.
    private mutating func array(line: Int, depth: Int) throws(TOMLSyntaxError) -> ConfigNode {
        let start = cursor.offset
        cursor.advance()
        var items: [ConfigNode] = []
        while true {
            cursor.skipBlank()
            if cursor.atEnd { throw cursor.error(.unclosed("array"), at: start) }
            if cursor.take(UInt8(ascii: "]")) { break }
            items.append(try value(line: line, depth: depth + 1))
            cursor.skipBlank()
            if cursor.take(UInt8(ascii: ",")) { continue }
            if cursor.take(UInt8(ascii: "]")) { break }
            throw cursor.atEnd ? cursor.error(.unclosed("array"), at: start) : cursor.unexpected("',' or ']'")
        }
        return ConfigNode(.array(items), line: line)
    }

    /// `{ k = v, k.l = v }` on one line, closed once read.
    private mutating func inlineTable(line: Int, depth: Int) throws(TOMLSyntaxError) -> ConfigNode {
        cursor.advance()
        let table = TOMLTable(origin: .inline, line: line, firstLine: line, depth: depth)
        cursor.skipSpaces()
        if !cursor.take(UInt8(ascii: "}")) {
            while true {
                cursor.skipSpaces()
                try keyValue(into: table, path: "", line: line)
                cursor.skipSpaces()
                if cursor.take(UInt8(ascii: ",")) { continue }
                if cursor.take(UInt8(ascii: "}")) { break }
                throw cursor.unexpected(cursor.atNewline ? "',' or '}' (an inline table is on one line)" : "',' or '}'")
            }
        }
        return ConfigNode(.table(table.configTable(inheritedLine: line)), line: line)
    }
}
