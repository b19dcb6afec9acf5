/// Which fragment indexes were served in the current attempt: one bit per index, so 65 535
/// fragments take 8 KiB at most, and a repeated request does not count twice for progress.
public struct FragmentSet: Sendable, Equatable, Codable {
    public private(set) var capacity: Int
    public private(set) var count: Int = 0
    private var words: [UInt64]

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        self.words = Array(repeating: 0, count: (self.capacity + 63) / 64)
    }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0, index < capacity else { return false }
        return words[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    /// Adds `index`; true when it was not in the set before.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        guard index >= 0, index < capacity, !contains(index) else { return false }
        words[index / 64] |= 1 << UInt64(index % 64)
        count += 1
        return true
    }

    private enum CodingKeys: String, CodingKey { case capacity, words }

    /// A stored set whose bits do not fit its capacity is refused rather than trusted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try container.decode(Int.self, forKey: .capacity)
        let words = try container.decode([UInt64].self, forKey: .words)
        guard capacity >= 0, capacity <= PCPLimits.maxFragmentCount, words.count == (capacity + 63) / 64 else {
            throw DecodingError.dataCorruptedError(forKey: .words, in: container,
                                                   debugDescription: "fragment bits do not match capacity \(capacity)")
        }
        self.init(capacity: capacity)
        for index in 0..<capacity where words[index / 64] & (1 << UInt64(index % 64)) != 0 { insert(index) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(words, forKey: .words)
    }

    public mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}
