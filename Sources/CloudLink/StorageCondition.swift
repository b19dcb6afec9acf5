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
