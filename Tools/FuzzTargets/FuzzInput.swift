/// Reads a fuzz input from the front: selector bytes that choose a variant, then what is left.
/// Past the end it yields zeros and empty slices, so every input is a valid one.
struct FuzzInput {
    private(set) var rest: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { rest = bytes[...] }

    var isEmpty: Bool { rest.isEmpty }

    mutating func byte() -> UInt8 { rest.popFirst() ?? 0 }

    /// A big-endian 16-bit word.
    mutating func word() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// The next `count` bytes, fewer at the end.
    mutating func take(_ count: Int) -> [UInt8] {
        let taken = rest.prefix(count)
        rest = rest.dropFirst(taken.count)
        return Array(taken)
    }

    /// The bytes up to the next `separator` (which is consumed), or all that is left.
    mutating func field(until separator: UInt8) -> [UInt8] {
        guard let end = rest.firstIndex(of: separator) else { return takeRest() }
        let field = Array(rest[..<end])
        rest = rest[(end + 1)...]
        return field
    }

    mutating func takeRest() -> [UInt8] {
        defer { rest = [] }
        return Array(rest)
    }
}
