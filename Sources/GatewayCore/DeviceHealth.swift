/// Whether a polled field device (a Modbus slave, a serial device) answers: unknown until its
/// first cycle, then online or offline.
public enum FieldHealthState: String, Sendable, Equatable {
    /// Not read yet since start.
    case unknown
    case online
    case offline
}

/// Whether a polled device answers, decided from poll cycles; pure, with time passed in.
///
/// A cycle fails when the slave did not answer at all (timeout, broken frame, lost link);
/// an exception response is an answer. After `failuresBeforeOffline` failed cycles in a row
/// the slave is offline and polled only at retry times that back off from `initialBackoff`
/// to `maxBackoff`, so a dead slave costs the bus one timeout per retry, not one per cycle.
public struct DeviceHealth<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias State = FieldHealthState

    public enum Action: Sendable, Equatable {
        case reportOnline
        case reportOffline
    }

    public struct Policy: Sendable, Equatable {
        public var failuresBeforeOffline: Int
        public var initialBackoff: Duration
        public var maxBackoff: Duration

        public init(failuresBeforeOffline: Int = 3, initialBackoff: Duration = .seconds(5), maxBackoff: Duration = .seconds(300)) {
            self.failuresBeforeOffline = max(1, failuresBeforeOffline)
            self.initialBackoff = initialBackoff
            self.maxBackoff = max(initialBackoff, maxBackoff)
        }
    }

    public let policy: Policy
    public private(set) var state: State = .unknown
    public private(set) var consecutiveFailures = 0
    /// While offline: when the next probe may go out.
    public private(set) var retryAt: Instant?
    private var backoff: Duration

    public init(policy: Policy) {
        self.policy = policy
        self.backoff = policy.initialBackoff
    }

    /// May a cycle for this slave start now? Always, except while offline before `retryAt`.
    public func mayPoll(at now: Instant) -> Bool {
        guard state == .offline, let retryAt else { return true }
        return now >= retryAt
    }

    public mutating func cycleSucceeded(at now: Instant) -> Action? {
        consecutiveFailures = 0
        retryAt = nil
        backoff = policy.initialBackoff
        guard state != .online else { return nil }
        state = .online
        return .reportOnline
    }

    /// The link to the device is gone (its port vanished): offline at once, retried from the
    /// first backoff step.
    public mutating func linkLost(at now: Instant) -> Action? {
        consecutiveFailures = max(consecutiveFailures, policy.failuresBeforeOffline)
        backoff = policy.initialBackoff
        retryAt = now.advanced(by: backoff)
        guard state != .offline else { return nil }
        state = .offline
        return .reportOffline
    }

    public mutating func cycleFailed(at now: Instant) -> Action? {
        consecutiveFailures += 1
        if state == .offline {
            retryAt = now.advanced(by: backoff)
            backoff = min(backoff * 2, policy.maxBackoff)
            return nil
        }
        guard consecutiveFailures >= policy.failuresBeforeOffline else { return nil }
        state = .offline
        retryAt = now.advanced(by: backoff)
        backoff = min(backoff * 2, policy.maxBackoff)
        return .reportOffline
    }
}
