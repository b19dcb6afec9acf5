/// Which connection failures reach the log: one line per change of state, not one per attempt.
///
/// A gateway whose cloud is down for a day retries every minute; a warning each time would bury
/// everything else. The first failure of an outage and every change of reason are logged; repeats
/// of the same reason are counted, recalled every `reminderInterval` while the outage lasts, and
/// summed up when the link comes back. Pure: the session passes its clock's elapsed time.
struct OutageLog: Sendable, Equatable {
    /// While the same failure repeats, a reminder at most this often.
    static let reminderInterval: Duration = .seconds(600)

    enum Entry: Equatable {
        /// Log this failure: it starts an outage or has a new reason. `repeatsBefore` failures
        /// with the previous reason went unlogged since that reason was last logged.
        case failure(repeatsBefore: Int)
        /// Still the same failure: `attempts` in a row, for `outage` so far.
        case reminder(attempts: Int, outage: Duration)
        /// The same failure again; worth a debug line only.
        case repeated(attempts: Int)
    }

    /// Failed attempts since the last connection.
    private(set) var failures = 0
    private var reason: String?
    private var unlogged = 0
    private var outageStart: Duration = .zero
    private var lastLogged: Duration = .zero

    /// An attempt failed for `reason` at `now` (time since the session started).
    mutating func failed(reason: String, at now: Duration) -> Entry {
        if failures == 0 { outageStart = now }
        failures += 1
        guard reason == self.reason else {
            let repeats = unlogged
            self.reason = reason
            unlogged = 0
            lastLogged = now
            return .failure(repeatsBefore: repeats)
        }
        if now - lastLogged >= Self.reminderInterval {
            unlogged = 0
            lastLogged = now
            return .reminder(attempts: failures, outage: now - outageStart)
        }
        unlogged += 1
        return .repeated(attempts: failures)
    }

    /// A failure that is logged on its own every time (a refusal, missing credentials): the next
    /// network failure is a change of state again.
    mutating func otherFailure(at now: Duration) {
        if failures == 0 { outageStart = now }
        failures += 1
        reason = nil
        unlogged = 0
    }

    /// The link is up. Returns how many attempts had failed and for how long, when any had.
    mutating func connected(at now: Duration) -> (failures: Int, outage: Duration)? {
        defer { self = OutageLog() }
        return failures == 0 ? nil : (failures, now - outageStart)
    }
}
