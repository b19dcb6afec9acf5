import GatewayCore

/// Carries the server's events from the CoAP threads to its one consumer (an `AsyncStream` made
/// with `stream()`), through a `ServerEventQueue`: in order, uplinks bounded, nothing else dropped.
final class LwM2MEventChannel: Sendable {
    private struct State: Sendable {
        var queue: ServerEventQueue
        var waiter: CheckedContinuation<LwM2MServerEvent?, Never>?
        var finished = false
    }

    private let state: Locked<State>
    let maxQueuedUplinks: Int

    init(maxQueuedUplinks: Int) {
        self.maxQueuedUplinks = maxQueuedUplinks
        state = Locked(State(queue: ServerEventQueue(maxQueuedUplinks: maxQueuedUplinks)))
    }

    /// Any thread; never waits. False when the event was an uplink dropped by the bound.
    @discardableResult
    func push(_ event: LwM2MServerEvent) -> Bool {
        let (accepted, handoff) = state.withLock { state -> (Bool, (CheckedContinuation<LwM2MServerEvent?, Never>, LwM2MServerEvent)?) in
            if state.finished { return (true, nil) }
            guard state.queue.push(event) else { return (false, nil) }
            // A consumer waits only on an empty queue: it takes this event at once.
            guard let waiter = state.waiter, let first = state.queue.pop() else { return (true, nil) }
            state.waiter = nil
            return (true, (waiter, first))
        }
        if let (waiter, first) = handoff { waiter.resume(returning: first) }
        return accepted
    }

    /// The next event; nil once finished and empty, or when the waiting task is cancelled.
    func next() async -> LwM2MServerEvent? {
        // A consumer that is behind takes what is queued without suspending.
        let queued: LwM2MServerEvent?? = state.withLock { state in
            if let event = state.queue.pop() { return .some(event) }
            return state.finished ? .some(nil) : nil
        }
        if let queued { return queued }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<LwM2MServerEvent?, Never>) in
                let ready: LwM2MServerEvent?? = state.withLock { state in
                    if let event = state.queue.pop() { return .some(event) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Ends the stream once what is queued has been taken.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    var droppedUplinks: Int { state.withLock { $0.queue.droppedUplinks } }

    /// The consumer's side; `next()` is called by one consumer only.
    func stream() -> AsyncStream<LwM2MServerEvent> {
        AsyncStream(unfolding: { [self] in await self.next() })
    }
}
