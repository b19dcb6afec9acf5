import GatewayCore
/// Fans one sequence of values out to any number of AsyncStreams. `yield` never blocks,
/// so it is safe from libmosquitto's loop thread.
///
/// With `replaysLatest`, a new subscriber first gets the last value yielded (or the initial
/// one): the latest value and the subscriber list change under one lock, so a subscriber
/// either is in the list a yield delivers to or replays that yield's value.
///
/// A continuation is never yielded to under the state lock: a consumer being cancelled runs
/// `onTermination` (which takes the state lock) while the stream holds its own lock, so
/// yielding under ours could deadlock the two. Yields are delivered in order under a lock of
/// their own that `onTermination` never takes.
final class Broadcast<Element: Sendable>: Sendable {
    private struct State {
        var nextId = 0
        var continuations: [Int: AsyncStream<Element>.Continuation] = [:]
        var latest: Element?
        var finished = false
    }

    private let replaysLatest: Bool
    private let state: Locked<State>
    /// Serializes deliveries, so subscribers see the values in the order they were yielded.
    private let delivery = Locked(())

    init(replaysLatest: Bool = false, initial: Element? = nil) {
        self.replaysLatest = replaysLatest
        state = Locked(State(latest: initial))
    }

    func subscribe() -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
        // The new continuation is nobody else's yet: replaying into it under the lock is safe.
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
        delivery.withLock { _ in
            let targets: [AsyncStream<Element>.Continuation] = state.withLock { state in
                if replaysLatest { state.latest = element }
                return Array(state.continuations.values)
            }
            for continuation in targets { continuation.yield(element) }
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
