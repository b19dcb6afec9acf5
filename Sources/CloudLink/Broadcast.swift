/// Fans one sequence of values out to any number of AsyncStreams. `yield` never blocks,
/// so it is safe from libmosquitto's loop thread.
final class Broadcast<Element: Sendable>: Sendable {
    private struct State {
        var nextId = 0
        var continuations: [Int: AsyncStream<Element>.Continuation] = [:]
        var finished = false
    }

    private let state = LockedValue(State())

    /// A new subscriber; `initial` is delivered first (e.g. the current state).
    func subscribe(initial: Element? = nil) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
        if let initial { continuation.yield(initial) }
        let registered: Bool = state.withLock { state in
            guard !state.finished else { return false }
            let id = state.nextId
            state.nextId += 1
            state.continuations[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.continuations.removeValue(forKey: id) }
            }
            return true
        }
        if !registered { continuation.finish() }
        return stream
    }

    func yield(_ element: Element) {
        let targets = state.withLock { Array($0.continuations.values) }
        for continuation in targets { continuation.yield(element) }
    }

    func finish() {
        let targets: [AsyncStream<Element>.Continuation] = state.withLock { state in
            state.finished = true
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for continuation in targets { continuation.finish() }
    }
}
