import Foundation

/// Collects the events of an AsyncStream so a test can wait for one that matches.
final class EventRecorder<Event: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [Event] = []
    private var task: Task<Void, Never>?

    init(_ stream: AsyncStream<Event>) {
        task = Task { [weak self] in
            for await event in stream { self?.append(event) }
        }
    }

    deinit { task?.cancel() }

    private func append(_ event: Event) { lock.withLock { events.append(event) } }

    var all: [Event] { lock.withLock { events } }

    /// Waits until an event matches; returns the first match, or nil after `timeout`.
    func first<T>(timeout: Duration = .seconds(5), where match: @escaping (Event) -> T?) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = all.lazy.compactMap(match).first { return found }
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
