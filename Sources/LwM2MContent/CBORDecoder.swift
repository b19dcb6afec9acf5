extension CBOR {
    /// The one item `bytes` hold. Every length and count is checked against what is left before
    /// anything is read or reserved, nesting is bounded by `maxDepth`, and indefinite lengths end
    /// at a "break" or the input's end, so no input can read out of bounds, allocate more than
    /// its own size or recurse without end.
    public static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBOR {
        var reader = CBORReader(bytes: bytes)
        let item = try reader.item(depth: 0)
        guard reader.index == bytes.count else { throw .trailingBytes(offset: reader.index) }
        return item
    }
}

/// One pass over the bytes; `index` is the next byte to read.
struct CBORReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var left: Int { bytes.count - index }

    mutating func item(depth: Int) throws(CBORError) -> CBOR {
        let start = index
        guard left >= 1 else { throw .truncated(offset: start) }
        let initial = bytes[index]
        index += 1
        let major = initial >> 5
        let info = initial & 0x1F
        if major == 7 { return try simple(info, start: start, initial: initial) }
        if info == 31 { return try indefinite(major, depth: depth, start: start, initial: initial) }
        let argument = try self.argument(info, start: start, initial: initial)
        switch major {
        case 0:
            guard let value = Int64(exactly: argument) else { throw .integerOutOfRange(offset: start) }
            return .integer(value)
        case 1:
            // -1 - n: representable exactly when n fits in 63 bits.
            guard let value = Int64(exactly: argument) else { throw .integerOutOfRange(offset: start) }
            return .integer(-1 - value)
        case 2:
            return .bytes(try take(argument, start: start))
        case 3:
            return .text(try text(try take(argument, start: start), start: start))
        case 4:
            // Every item is at least one byte: a count beyond what is left cannot be honest.
            guard argument <= UInt64(left) else { throw .truncated(offset: start) }
            guard depth < CBOR.maxDepth else { throw .tooDeep(offset: start) }
            var items: [CBOR] = []
            items.reserveCapacity(Int(argument))
            for _ in 0..<Int(argument) { items.append(try item(depth: depth + 1)) }
            return .array(items)
        case 5:
            guard argument <= UInt64(left / 2) else { throw .truncated(offset: start) }
            guard depth < CBOR.maxDepth else { throw .tooDeep(offset: start) }
            var entries: [CBOR.Entry] = []
            entries.reserveCapacity(Int(argument))
            for _ in 0..<Int(argument) {
                let key = try item(depth: depth + 1)
                entries.append(CBOR.Entry(key, try item(depth: depth + 1)))
            }
            return .map(entries)
        default:
            // Major type 6: a tag says how to read the item that follows; SenML defines none,
            // so the item is read as it is.
            guard depth < CBOR.maxDepth else { throw .tooDeep(offset: start) }
            return try item(depth: depth + 1)
        }
    }

    /// The argument of a head whose additional information is `info` (0–27).
    mutating func argument(_ info: UInt8, start: Int, initial: UInt8) throws(CBORError) -> UInt64 {
        let size: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: size = 1
        case 25: size = 2
        case 26: size = 4
        case 27: size = 8
        default: throw .unsupported(offset: start, initialByte: initial)
        }
        guard left >= size else { throw .truncated(offset: start) }
        var value: UInt64 = 0
        for _ in 0..<size {
            value = value << 8 | UInt64(bytes[index])
            index += 1
        }
        return value
    }

    mutating func take(_ count: UInt64, start: Int) throws(CBORError) -> [UInt8] {
        guard count <= UInt64(left) else { throw .truncated(offset: start) }
        let slice = Array(bytes[index..<index + Int(count)])
        index += Int(count)
        return slice
    }

    func text(_ utf8: [UInt8], start: Int) throws(CBORError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        return text
    }

    mutating func simple(_ info: UInt8, start: Int, initial: UInt8) throws(CBORError) -> CBOR {
        switch info {
        case 20: return .boolean(false)
        case 21: return .boolean(true)
        // undefined is read as null: SenML gives neither a meaning.
        case 22, 23: return .null
        case 25: return .float(CBORFloat.fromHalf(UInt16(try argument(info, start: start, initial: initial))))
        case 26: return .float(Double(Float(bitPattern: UInt32(try argument(info, start: start, initial: initial)))))
        case 27: return .float(Double(bitPattern: try argument(info, start: start, initial: initial)))
        default: throw .unsupported(offset: start, initialByte: initial)
        }
    }

    /// An indefinite-length string (definite chunks of its own major type), array or map, up to its "break".
    mutating func indefinite(_ major: UInt8, depth: Int, start: Int, initial: UInt8) throws(CBORError) -> CBOR {
        guard depth < CBOR.maxDepth else { throw .tooDeep(offset: start) }
        var chunks: [UInt8] = []
        var items: [CBOR] = []
        while true {
            guard left >= 1 else { throw .truncated(offset: start) }
            if bytes[index] == 0xFF {
                index += 1
                break
            }
            switch major {
            case 2, 3:
                let chunkStart = index
                let head = bytes[index]
                guard head >> 5 == major, head & 0x1F != 31 else { throw .unsupported(offset: chunkStart, initialByte: head) }
                index += 1
                let count = try argument(head & 0x1F, start: chunkStart, initial: head)
                chunks += try take(count, start: chunkStart)
            case 4, 5:
                items.append(try item(depth: depth + 1))
            default:
                throw .unsupported(offset: start, initialByte: initial)
            }
        }
        switch major {
        case 2: return .bytes(chunks)
        case 3: return .text(try text(chunks, start: start))
        case 4: return .array(items)
        default:
            guard items.count % 2 == 0 else { throw .truncated(offset: start) }
            return .map(stride(from: 0, to: items.count, by: 2).map { CBOR.Entry(items[$0], items[$0 + 1]) })
        }
    }
}
