/// Which failures of something polled over and over are worth a log line: the first of a run,
/// a change to another failure, and the recovery, each with how many polls failed before it.
/// A register that always answers an exception is logged twice, not once per poll. Pure.
struct FailureStreak<Failure: Equatable & Sendable>: Sendable {
    enum Event: Sendable, Equatable {
        /// The first failure after a success (or since start).
        case started(Failure)
        /// A different failure after `count` polls that failed with `previous`.
        case changed(to: Failure, previous: Failure, count: Int)
        /// A success after `count` polls that failed, the last with `last`.
        case recovered(last: Failure, count: Int)
    }

    /// The failure of the run in progress, nil while things work.
    private(set) var current: Failure?
    /// Polls that failed with `current` in a row.
    private(set) var count = 0

    init() {}

    mutating func failed(_ failure: Failure) -> Event? {
        guard let current else {
            self.current = failure
            count = 1
            return .started(failure)
        }
        if current == failure {
            count += 1
            return nil
        }
        let event = Event.changed(to: failure, previous: current, count: count)
        self.current = failure
        count = 1
        return event
    }

    mutating func succeeded() -> Event? {
        guard let current else { return nil }
        let event = Event.recovered(last: current, count: count)
        self.current = nil
        count = 0
        return event
    }
}
