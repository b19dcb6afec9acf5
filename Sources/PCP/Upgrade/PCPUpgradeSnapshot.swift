/// A task's state as stored (the caller encodes it as JSON in the store and restores it after a
/// restart). Instants of the machine's clock mean nothing after a restart, so the deadline is
/// stored as the time that remained when the snapshot was taken; the caller stores the wall time
/// of the snapshot next to it and, on restore, passes the wall time that passed since as
/// `elapsed`: the platform's timers keep running while the gateway is down.
public struct PCPUpgradeSnapshot: Sendable, Equatable, Codable {
    /// The format of this value; restore refuses other formats.
    public var format: Int = 1
    public var settings: PCPUpgradeSettings
    public var phase: PCPUpgradePhase
    /// Time left until the deadline when the snapshot was taken; nil in phases without a timer.
    public var remaining: Duration?
    public var attempt: Int
    public var served: FragmentSet
    public var lastProgress: Int?
    public var executeSent: Bool
    public var lastReportedVersion: String?
    public var outcome: PCPUpgradeOutcome?
    public var acknowledgedReport: PCPUpgradeReport?
    public var rejectedRequests: Int
}

/// Why a stored task could not be restored.
public enum PCPUpgradeRestoreError: Error, Equatable, CustomStringConvertible {
    case format(Int)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .format(let f): return "stored upgrade task has format \(f); this build reads format 1"
        case .inconsistent(let why): return "stored upgrade task is inconsistent: \(why)"
        }
    }
}

extension PCPUpgradeMachine {
    /// The state to store. `now` turns the deadline into the time that remains.
    public func snapshot(now: C.Instant) -> PCPUpgradeSnapshot {
        PCPUpgradeSnapshot(
            settings: settings, phase: phase,
            remaining: nextDeadline.map { max(.zero, now.duration(to: $0)) },
            attempt: attempt, served: served, lastProgress: lastProgress, executeSent: executeSent,
            lastReportedVersion: lastReportedVersion, outcome: outcome, acknowledgedReport: acknowledgedReport,
            rejectedRequests: rejectedRequests)
    }

    /// A task as it was stored. `elapsed` is the wall time between the snapshot and now (negative
    /// counts as zero: the wall clock was set back). A deadline that passed meanwhile is `now`:
    /// the caller sends `.timer` right after restoring. Nothing is sent on restore: a task in
    /// DOWNLOADING serves the next fragment request without notifying again.
    public init(restoring snapshot: PCPUpgradeSnapshot, now: C.Instant, elapsed: Duration = .zero) throws(PCPUpgradeRestoreError) {
        guard snapshot.format == 1 else { throw .format(snapshot.format) }
        guard snapshot.attempt >= 1, snapshot.attempt <= snapshot.settings.retryCount + 1 else {
            throw .inconsistent("attempt \(snapshot.attempt) with \(snapshot.settings.retryCount) retries")
        }
        guard snapshot.served.capacity == Int(snapshot.settings.fragmentCount) else {
            throw .inconsistent("\(snapshot.served.capacity) fragment bits for \(snapshot.settings.fragmentCount) fragments")
        }
        let hasTimer = !(snapshot.phase.isTerminal || snapshot.phase == .waitForPermit)
        guard hasTimer == (snapshot.remaining != nil) else {
            throw .inconsistent("phase \(snapshot.phase) \(hasTimer ? "without" : "with") a deadline")
        }
        self.init(settings: snapshot.settings, now: now)
        phase = snapshot.phase
        nextDeadline = snapshot.remaining.map { now.advanced(by: max(.zero, $0 - max(.zero, elapsed))) }
        attempt = snapshot.attempt
        served = snapshot.served
        lastProgress = snapshot.lastProgress
        executeSent = snapshot.executeSent
        lastReportedVersion = snapshot.lastReportedVersion
        outcome = snapshot.outcome
        acknowledgedReport = snapshot.acknowledgedReport
        rejectedRequests = snapshot.rejectedRequests
    }
}
