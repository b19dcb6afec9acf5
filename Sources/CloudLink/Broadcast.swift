import GatewayCore
/// Fans one sequence of values out to any number of AsyncStreams. `yield` never blocks,
/// so it is safe from libmosquitto's loop thread.
///
/// With `replaysLatest`, a new subscriber first gets the last value yielded (or the initial
/// one): subscribe and yield share one lock, so no change falls between the two.
final class Broadcast<Element: Sendable>: Sendable {
    private struct State {
        var nextId = 0
        var continuations: [Int: AsyncStream<Element>.Continuation] = [:]
        var latest: Element?
        var finished = false
    }

    private let replaysLatest: Bool
    private let state: Locked<State>

    init(replaysLatest: Bool = false, initial: Element? = nil) {
        self.replaysLatest = replaysLatest
        state = Locked(State(latest: initial))
    }

    func subscribe() -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
        // Continuation.yield and finish only enqueue; they never call back into our code, so
        // they may run under the lock.
        state.withLock { state in
            guard !state.finished else {
                continuation.finish()
                return
            }
            if replaysLatest, let latest = state.latest { continuation.yield(latest) }
            let id = state.nextId
            state.nextId += 1
            state.continuations[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.continuations.removeValue(forKey: id) }
            }
        }
        return stream
    }

    func yield(_ element: Element) {
        state.withLock { state in
            if replaysLatest { state.latest = element }
            for continuation in state.continuations.values { continuation.yield(element) }
        }
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
