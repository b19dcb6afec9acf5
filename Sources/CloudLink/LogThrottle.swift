/// When a warning that may repeat many times a second is written: the first at once, then
/// at most one per `interval`, each saying how many were held back since the one before.
/// Pure: callers pass the time.
public struct LogThrottle: Sendable, Equatable {
    public let interval: Duration
    private var lastWritten: Duration?
    /// Occurrences held back since the last line written.
    public private(set) var heldBack = 0

    public init(interval: Duration) {
        self.interval = interval
    }

    /// Counts one occurrence at `now` (time since any fixed start). Returns nil when it is
    /// held back, else how many were held back before it.
    public mutating func admit(at now: Duration) -> Int? {
        if let lastWritten, now - lastWritten < interval {
            heldBack += 1
            return nil
        }
        lastWritten = now
        defer { heldBack = 0 }
        return heldBack
    }
}

/// Whether the outbox's storage fails, as the pump last logged it: one line when it starts
/// failing, one when it works again, nothing in between.
struct StorageCondition: Sendable, Equatable {
    enum Change: Equatable {
        case failing(String)
        case recovered(after: Duration)
    }

    private(set) var failingSince: Duration?

    /// `failure` is why it fails now, nil when it works.
    mutating func update(failure: String?, at now: Duration) -> Change? {
        switch (failingSince, failure) {
        case (nil, let failure?):
            failingSince = now
            return .failing(failure)
        case (let since?, nil):
            failingSince = nil
            return .recovered(after: now - since)
        default:
            return nil
        }
    }
}
