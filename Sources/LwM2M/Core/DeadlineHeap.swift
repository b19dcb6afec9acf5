/// Deadlines in a binary min-heap, so a timer tick looks at the earliest one only. Entries are not
/// removed when their request ends: the caller checks, when one comes due, that it still holds.
struct DeadlineHeap<Instant: Comparable, Key> {
    struct Entry {
        var deadline: Instant
        var key: Key
    }

    private var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var earliest: Entry? { entries.first }

    mutating func insert(_ deadline: Instant, _ key: Key) {
        entries.append(Entry(deadline: deadline, key: key))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(at now: Instant) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        return removeEarliest()
    }

    @discardableResult
    mutating func removeEarliest() -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
