/// Which points of one device to decode after a read: only those whose words changed since the
/// last good answer to the same planned read, plus any point without a value yet (never read,
/// or its last decode failed: tried again every poll until it works). A read whose words did not
/// change, once all its points have values, costs one comparison and no decoding. Pure.
///
/// Points of a planned read are in address order and do not overlap, so the points to decode
/// are found by a binary search for the first one that reaches the first changed word. Package
/// access: the `modbus-points` fuzz target (Tools/FuzzTargets) feeds it hostile answers.
package struct RegisterChangeDetector: Sendable {
    /// Where each point sits: (address, registers or bits), by point index.
    private let spans: [(address: Int, count: Int)]
    /// Where each planned read's words start in `raw`, by [group][read].
    private let base: [[Int]]
    /// The words of the last good answer to each planned read (bits as 0/1), end to end;
    /// zero before the first answer.
    private var raw: [UInt16]
    /// Whether every point of a planned read has a value, by [group][read].
    private var complete: [[Bool]]
    /// Whether a point has a decoded value, by point index.
    package private(set) var known: [Bool]

    package init(points: [(address: Int, count: Int)], plans: [[ModbusReadRequest]]) {
        spans = points
        var next = 0
        base = plans.map { $0.map { request in
            defer { next += request.count }
            return next
        } }
        raw = [UInt16](repeating: 0, count: next)
        complete = plans.map { $0.map { _ in false } }
        known = points.map { _ in false }
    }

    /// Takes the answer `words` to planned read `r` of group `g` and calls `decode(point,
    /// offset, count)` for each point to decode, in address order, where the point's words are
    /// `count` words from `offset` within `words`; `decode` returns whether the point now has a
    /// value.
    package mutating func update(group g: Int, read r: Int, request: ModbusReadRequest, words: UnsafeBufferPointer<UInt16>,
                         decode: (_ point: Int, _ offset: Int, _ count: Int) -> Bool) {
        let offset = base[g][r]
        let count = min(request.count, words.count)
        // The first and last word that changed; low > high when none did.
        let (low, high) = raw.withUnsafeBufferPointer { last -> (Int, Int) in
            var low = 0, high = count - 1
            while low <= high, last[offset + low] == words[low] { low += 1 }
            while high >= low, last[offset + high] == words[high] { high -= 1 }
            return (low, high)
        }
        let complete = self.complete[g][r]
        if complete, low > high { return }
        // Points are in address order: start at the first one that can reach `low`.
        let points = request.points
        var start = 0
        if complete {
            var upper = points.count
            while start < upper {
                let middle = (start + upper) / 2
                let span = spans[points[middle]]
                if span.address - request.address + span.count - 1 < low { start = middle + 1 } else { upper = middle }
            }
        }
        var allKnown = true
        for index in points[start...] {
            let span = spans[index]
            let from = span.address - request.address
            if complete, from > high { break }
            if known[index], from > high || from + span.count - 1 < low { continue }
            let decoded = decode(index, from, span.count)
            known[index] = decoded
            if !decoded { allKnown = false }
        }
        if !complete, allKnown { self.complete[g][r] = true }
        raw.withUnsafeMutableBufferPointer { last in
            for i in 0..<count { last[offset + i] = words[i] }
        }
    }
}
