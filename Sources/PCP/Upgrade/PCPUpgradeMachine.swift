/// One device's PCP upgrade task as a pure state machine (spec lwm2m-coap §2.10, §2.11): it takes
/// events with the instant they happen and returns actions; the caller sends the messages, reads
/// fragments from the package cache, arms a timer for `nextDeadline`, and persists `snapshot(now:)`.
/// Every phase change goes through `enter`, which logs it.
public struct PCPUpgradeMachine<C: Clock>: Sendable where C.Duration == Duration {
    public enum Event: Sendable, Equatable {
        /// Any uplink from the device (data, registration update, a PCP message).
        case deviceReported
        /// A PCP message from the device (it counts as a report too).
        case received(PCPMessage)
        /// The caller's fan-out limits let this device start its download.
        case startPermitted
        /// The caller's timer fired; the machine checks its deadline against `now`.
        case timer
        case cancel(PCPUpgradeCancelReason)
    }

    public enum Action: Sendable, Equatable {
        /// Send this message to the device.
        case send(PCPMessage)
        /// Answer the fragment request with `.fragment(result: .success, index:, data:)`, the
        /// bytes read from the package cache.
        case serveFragment(index: UInt16)
        /// Send this 0x80 answer: the request belongs to no running attempt. `shouldLog` is true
        /// for the first of a run only; the caller counts the rest.
        case reject(PCPMessage, shouldLog: Bool)
        /// The version differs: the device waits for `Event.startPermitted`.
        case wantsToStart
        /// Distinct fragments served, 0–100, every `progressStep` and at 100.
        case progress(Int)
        /// The task ended. `version` is the version the device last reported.
        case finished(result: PCPResult, version: String?, description: String)
        /// Arm the timer for this instant (also `nextDeadline`).
        case schedule(C.Instant)
        /// A phase change, for the log.
        case log(PCPUpgradeTransition)
        /// A device message that changes nothing in this phase, for a debug log.
        case ignored(String)
    }

    /// Progress is reported when it grew by this many percent since the last report, and at 100.
    public static var progressStep: Int { 5 }

    public let settings: PCPUpgradeSettings
    public internal(set) var phase: PCPUpgradePhase
    /// When the caller must send `.timer`; nil in phases without a timer.
    public internal(set) var nextDeadline: C.Instant?
    /// 1 for the first attempt; each retry adds one (at most `settings.retryCount + 1`).
    public internal(set) var attempt: Int
    /// Fragments served in this task (kept across attempts: a module resumes with what it has).
    public internal(set) var served: FragmentSet
    public internal(set) var lastProgress: Int?
    /// Whether 0x17 was sent in this attempt: only then is a 0x17 answer taken.
    public internal(set) var executeSent: Bool
    /// The version the device last reported (0x13 answer or 0x18), for the cloud's `version_query`.
    public internal(set) var lastReportedVersion: String?
    public internal(set) var outcome: PCPUpgradeOutcome?
    public internal(set) var acknowledgedReport: PCPUpgradeReport?
    /// Requests answered with 0x80 by this machine.
    public internal(set) var rejectedRequests: Int
    var lastRejectAt: C.Instant?

    /// A new task: WAIT_FOR_DEVICE until the device reports, at most 24 h.
    public init(settings: PCPUpgradeSettings, now: C.Instant) {
        self.settings = settings
        self.phase = .waitForDevice
        self.nextDeadline = now.advanced(by: PCPUpgradeTimers.waitForDevice)
        self.attempt = 1
        self.served = FragmentSet(capacity: Int(settings.fragmentCount))
        self.executeSent = false
        self.rejectedRequests = 0
    }

    /// A new task and the actions of its creation: the log line and the 24 h timer.
    public static func create(settings: PCPUpgradeSettings, now: C.Instant) -> (machine: Self, actions: [Action]) {
        let machine = Self(settings: settings, now: now)
        var actions: [Action] = [.log(PCPUpgradeTransition(
            from: nil, to: .waitForDevice, attempt: 1,
            reason: "task created for version \(settings.targetVersion); waiting up to 24 h for the device to report"))]
        if let deadline = machine.nextDeadline { actions.append(.schedule(deadline)) }
        return (machine, actions)
    }

    public mutating func handle(_ event: Event, now: C.Instant) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .deviceReported:
            deviceReported(now: now, into: &actions)
        case .received(let message):
            received(message, now: now, into: &actions)
            deviceReported(now: now, into: &actions)
        case .startPermitted:
            guard phase == .waitForPermit else { break }
            actions.append(.send(.newVersion(settings.newVersion)))
            enter(.notified, reason: "start permitted; new version \(settings.targetVersion) notified (\(settings.fragmentCount) fragments of \(settings.fragmentSize) bytes)",
                  deadline: now.advanced(by: PCPUpgradeTimers.download), into: &actions)
        case .timer:
            timerFired(now: now, into: &actions)
        case .cancel(let reason):
            guard !phase.isTerminal else { break }
            switch reason {
            case .withdrawn:
                finish(.cancelled, result: .internalError, description: "the cloud withdrew the upgrade task", into: &actions)
            case .packageVerificationFailed:
                finish(.failed, result: .verificationFailed,
                       description: "the upgrade package failed verification (size or SHA-256 sign); nothing was served", into: &actions)
            }
        }
        return actions
    }

    // MARK: - Transitions

    /// The one setter of `phase`: every change is logged, and the deadline goes with it.
    mutating func enter(_ next: PCPUpgradePhase, reason: String, deadline: C.Instant?, into actions: inout [Action]) {
        let transition = PCPUpgradeTransition(from: phase, to: next, attempt: attempt, reason: reason)
        phase = next
        nextDeadline = deadline
        actions.append(.log(transition))
        if let deadline { actions.append(.schedule(deadline)) }
    }

    private mutating func deviceReported(now: C.Instant, into actions: inout [Action]) {
        guard phase == .waitForDevice else { return }
        actions.append(.send(.queryVersion))
        enter(.queryVersion, reason: "device reported; version queried",
              deadline: now.advanced(by: PCPUpgradeTimers.versionQuery), into: &actions)
    }

    private mutating func timerFired(now: C.Instant, into actions: inout [Action]) {
        guard let deadline = nextDeadline, deadline <= now else { return }
        switch phase {
        case .waitForDevice:
            // Not retried: a retry would wait another 24 h for the same silent device.
            finish(.failed, result: .internalError,
                   description: "waiting for the device online timeout: the device did not report within 24 h", into: &actions)
        case .queryVersion:
            failAttempt(.internalError, "the device did not answer the version query within 3 min", retry: true, now: now, into: &actions)
        case .notified:
            failAttempt(.downloadTimeout, "the device neither answered the new-version notification nor requested a fragment within 60 min",
                        retry: true, now: now, into: &actions)
        case .downloading:
            failAttempt(.downloadTimeout, "the device did not finish the download within 60 min of the notification (\(served.count) of \(settings.fragmentCount) fragments served)",
                        retry: true, now: now, into: &actions)
        case .executing, .waitResult:
            failAttempt(.internalError, "the device did not report the upgrade result within 30 min of the execute command",
                        retry: true, now: now, into: &actions)
        case .retryWait:
            attempt += 1
            executeSent = false
            enter(.waitForDevice, reason: "retry \(attempt - 1) of \(settings.retryCount); waiting up to 24 h for the device to report",
                  deadline: now.advanced(by: PCPUpgradeTimers.waitForDevice), into: &actions)
        case .waitForPermit, .succeeded, .failed, .cancelled:
            nextDeadline = nil
        }
    }

    /// Ends the attempt: RETRY_WAIT when `retry` and retries remain, else FAILED.
    mutating func failAttempt(_ result: PCPResult, _ description: String, retry: Bool, now: C.Instant, into actions: inout [Action]) {
        let retriesUsed = attempt - 1
        if retry && retriesUsed < settings.retryCount {
            executeSent = false
            enter(.retryWait, reason: "attempt \(attempt) failed with \(result): \(description); retry in \(minutes(settings.retryInterval))",
                  deadline: now.advanced(by: settings.retryInterval), into: &actions)
        } else {
            let suffix = retry && settings.retryCount > 0 ? " (after \(settings.retryCount) retries)" : ""
            finish(.failed, result: result, description: description + suffix, into: &actions)
        }
    }

    mutating func finish(_ terminal: PCPUpgradePhase, result: PCPResult, description: String, into actions: inout [Action]) {
        outcome = PCPUpgradeOutcome(result: result, description: description)
        executeSent = false
        enter(terminal, reason: "\(result): \(description)", deadline: nil, into: &actions)
        actions.append(.finished(result: result, version: lastReportedVersion, description: description))
    }

    private func minutes(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
    }
}
