import GatewayCore

/// When each poll group of each device on one bus is read next, and what a cycle's outcome does
/// to that: pure, with time passed in (the bus thread only executes what it says).
///
/// - The cycle due first goes next; on a tie, the first device, then its first group.
/// - A group is due again one interval after its cycle *started*, or at once when the cycle
///   took longer than that (a slow bus polls back to back, it does not queue up cycles).
/// - A device whose slave stopped answering is offline (`DeviceHealth`): its groups are due
///   only at its retry time, so a dead slave costs the bus one timeout per retry.
/// - A cycle longer than its interval, not counting time spent waiting for a silent slave,
///   means the bus cannot keep up: reported once per device.
/// - After a write every group of the device is due at once (the cloud sees the new value).
struct PollSchedule<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// A cycle to run: one poll group of one device, due at `at`.
    struct Due: Sendable, Equatable {
        var device: Int
        var group: Int
        var at: Instant
    }

    /// What the end of a cycle changed.
    struct Outcome: Sendable, Equatable {
        /// The device went online or offline with this cycle.
        var health: DeviceHealth<Instant>.Action?
        /// The first cycle of this device that overran its interval.
        var overran: Bool
    }

    /// Poll interval by [device][group].
    let intervals: [[Duration]]
    /// Whether a group has anything to read, by [device][group]; empty groups are never due.
    private let polled: [[Bool]]
    /// When each group is due next, by [device][group].
    private(set) var nextDue: [[Instant]]
    /// Whether each device's slave answers, by device.
    private(set) var health: [DeviceHealth<Instant>]
    private var overrunReported: [Bool]

    /// - Parameter groups: by device, each poll group's interval and whether it has reads.
    init(groups: [[(interval: Duration, hasReads: Bool)]], health policy: DeviceHealth<Instant>.Policy, now: Instant) {
        intervals = groups.map { $0.map(\.interval) }
        polled = groups.map { $0.map(\.hasReads) }
        nextDue = groups.map { $0.map { _ in now } }
        health = groups.map { _ in DeviceHealth(policy: policy) }
        overrunReported = groups.map { _ in false }
    }

    /// The cycle due first (it may lie in the future: the bus waits until then); nil when
    /// nothing is polled at all.
    func next() -> Due? {
        var best: Due?
        for (d, groups) in nextDue.enumerated() {
            let device = health[d]
            for (g, groupDue) in groups.enumerated() where polled[d][g] {
                var due = groupDue
                if device.state == .offline, let retryAt = device.retryAt { due = max(due, retryAt) }
                if let current = best, current.at <= due { continue }
                best = Due(device: d, group: g, at: due)
            }
        }
        return best
    }

    /// A cycle of `group` of `device` ran from `started` to `ended`.
    /// - Parameters:
    ///   - answered: the slave answered at least one read (an exception is an answer).
    ///   - silent: a read got no answer at all (the cycle stopped there).
    ///   - silence: time spent waiting for answers that did not come; not a sign of overload.
    mutating func cycleEnded(device d: Int, group g: Int, started: Instant, ended: Instant,
                             answered: Bool, silent: Bool, silence: Duration) -> Outcome {
        let interval = intervals[d][g]
        nextDue[d][g] = max(started.advanced(by: interval), ended)
        let took = started.duration(to: ended)
        var overran = false
        if interval > .zero, took - silence > interval, !overrunReported[d] {
            overrunReported[d] = true
            overran = true
        }
        let action = (silent && !answered) ? health[d].cycleFailed(at: ended) : health[d].cycleSucceeded(at: ended)
        return Outcome(health: action, overran: overran)
    }

    /// A write to `device` succeeded at `now`: read it back at once.
    mutating func readBack(device d: Int, at now: Instant) {
        for g in nextDue[d].indices { nextDue[d][g] = now }
    }
}
