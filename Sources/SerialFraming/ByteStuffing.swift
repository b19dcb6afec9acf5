/// Byte stuffing: the start, end and escape bytes never appear inside a frame on the wire;
/// each is sent as the escape byte and a second byte instead, so a flag always means a frame's
/// edge and a receiver finds frames without counting.
public struct ByteStuffing: Sendable, Equatable {
    public enum Form: Sendable, Equatable {
        /// The second byte is the original XOR this (HDLC and PPP: 0x7D, then the byte XOR 0x20).
        /// A receiver takes any escaped byte, as RFC 1662 asks (senders may escape more).
        case xor(UInt8)
        /// The second byte for each escaped byte (SLIP: C0 → DB DC, DB → DB DD). Keys beyond
        /// the start, end and escape bytes are escaped too.
        case map([UInt8: UInt8])
    }

    public let escape: UInt8
    public let form: Form

    public init(escape: UInt8, form: Form) {
        self.escape = escape
        self.form = form
    }

    /// What makes this stuffing unusable with these flags, under the keys of `[framing]`.
    func problems(start: UInt8, end: UInt8) -> [FramingSpecProblem] {
        var found: [FramingSpecProblem] = []
        let flags: Set<UInt8> = [start, end]
        if flags.contains(escape) {
            found.append(FramingSpecProblem(key: "escape", "the escape byte \(HexBytes.text([escape])) is also a start or end byte",
                                            fix: "use a byte of its own, e.g. escape = \"7D\""))
            return found
        }
        switch form {
        case .xor(let mask):
            if mask == 0 {
                found.append(FramingSpecProblem(key: "escape_xor", "0 leaves escaped bytes unchanged", fix: "use escape_xor = 0x20 (HDLC)"))
            }
            if mask != 0, let byte = [start, end, escape].first(where: { flags.contains($0 ^ mask) }) {
                found.append(FramingSpecProblem(key: "escape_xor", "\(HexBytes.text([byte])) XOR \(HexBytes.text([mask])) is a start or end byte: an escaped byte would still end the frame"))
            }
        case .map(let map):
            for byte in [start, end, escape].uniqued() where map[byte] == nil {
                found.append(FramingSpecProblem(key: "escape_map", "no entry for \(HexBytes.text([byte])), the \(name(of: byte, start: start, end: end)) byte",
                                                fix: "add \"\(HexBytes.text([byte]))\" = \"…\""))
            }
            for (byte, second) in map.sorted(by: { $0.key < $1.key }) where flags.contains(second) {
                found.append(FramingSpecProblem(key: "escape_map", "\(HexBytes.text([byte])) is sent as \(HexBytes.text([escape, second])): a start or end byte inside a frame"))
            }
            if Set(map.values).count != map.count {
                found.append(FramingSpecProblem(key: "escape_map", "two bytes are sent as the same second byte: a receiver could not tell them apart"))
            }
        }
        return found
    }

    private func name(of byte: UInt8, start: UInt8, end: UInt8) -> String {
        byte == escape ? "escape" : byte == start ? (start == end ? "start and end" : "start") : "end"
    }

    /// Both directions as 256-entry tables, so stuffing and unstuffing cost one lookup a byte.
    func tables(start: UInt8, end: UInt8) -> StuffingTables {
        var second = [Int16](repeating: -1, count: 256)
        var original = [Int16](repeating: -1, count: 256)
        switch form {
        case .xor(let mask):
            for byte in [start, end, escape] { second[Int(byte)] = Int16(byte ^ mask) }
            for byte in 0...255 { original[byte] = Int16(UInt8(byte) ^ mask) }
        case .map(let map):
            for (byte, value) in map {
                second[Int(byte)] = Int16(value)
                original[Int(value)] = Int16(byte)
            }
        }
        return StuffingTables(escape: escape, second: second, original: original)
    }
}

/// Lookup tables of one `ByteStuffing`; -1 marks "none".
struct StuffingTables: Sendable {
    let escape: UInt8
    /// The byte sent after the escape byte in place of a byte that needs escaping.
    let second: [Int16]
    /// The byte an escape sequence's second byte stands for.
    let original: [Int16]

    /// `bytes` with every byte that needs it escaped.
    func stuff(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        for byte in bytes {
            let replacement = second[Int(byte)]
            if replacement < 0 {
                output.append(byte)
            } else {
                output.append(escape)
                output.append(UInt8(truncatingIfNeeded: replacement))
            }
        }
    }

    /// Appends the bytes `wire` stands for to `output`; false when an escape byte is last or is
    /// followed by a byte that stands for nothing.
    func unstuff(_ wire: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        var index = 0
        while index < wire.count {
            let byte = wire[index]
            index += 1
            if byte != escape {
                output.append(byte)
                continue
            }
            guard index < wire.count else { return false }
            let restored = original[Int(wire[index])]
            guard restored >= 0 else { return false }
            output.append(UInt8(truncatingIfNeeded: restored))
            index += 1
        }
        return true
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
