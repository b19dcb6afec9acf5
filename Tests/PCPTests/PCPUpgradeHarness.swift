import GatewayCore
@testable import PCP

typealias Machine = PCPUpgradeMachine<ManualClock>
typealias Action = Machine.Action

/// One device's upgrade task on a manual clock, with steps that drive it into each phase.
struct UpgradeHarness {
    let clock = ManualClock()
    var machine: Machine

    static let target = "V2.0"
    static let current = "V1.0"

    /// 1,000 bytes in 100-byte fragments: 10 fragments.
    static func settings(retries: Int = 0, fragmentSize: Int = 100, packageSize: Int = 1_000,
                         interval: Duration = .seconds(300)) -> PCPUpgradeSettings {
        // Fixed, valid values: the initializer cannot throw for them.
        (try? PCPUpgradeSettings(targetVersion: target, packageSize: packageSize, fragmentSize: fragmentSize,
                                 checkCode: 0, retryCount: retries, retryInterval: interval))
            ?? { preconditionFailure("test settings are valid") }()
    }

    init(_ settings: PCPUpgradeSettings = UpgradeHarness.settings()) {
        machine = Machine(settings: settings, now: clock.now)
    }

    var phase: PCPUpgradePhase { machine.phase }
    var now: OffsetInstant { clock.now }

    @discardableResult
    mutating func handle(_ event: Machine.Event) -> [Action] { machine.handle(event, now: clock.now) }

    @discardableResult
    mutating func receive(_ message: PCPMessage) -> [Action] { handle(.received(message)) }

    /// Moves the clock and fires the timer.
    @discardableResult
    mutating func advance(_ duration: Duration) -> [Action] {
        clock.advance(by: duration)
        return handle(.timer)
    }

    mutating func toQueryVersion() { handle(.deviceReported) }
    mutating func toWaitForPermit() { toQueryVersion(); receive(.versionReport(result: .success, version: Self.current)) }
    mutating func toNotified() { toWaitForPermit(); handle(.startPermitted) }
    mutating func toDownloading() { toNotified(); receive(.newVersionAnswer(.success)) }
    mutating func toExecuting() { toDownloading(); receive(.downloadResult(.success)) }
    mutating func toWaitResult() { toExecuting(); receive(.executeAnswer(.success)) }
}

extension Array where Element == Action {
    var sent: [PCPMessage] { compactMap { if case .send(let m) = $0 { return m } else { return nil } } }
    var served: [UInt16] { compactMap { if case .serveFragment(let i) = $0 { return i } else { return nil } } }
    var progress: [Int] { compactMap { if case .progress(let p) = $0 { return p } else { return nil } } }
    var transitions: [PCPUpgradeTransition] { compactMap { if case .log(let t) = $0 { return t } else { return nil } } }
    var rejects: [(PCPMessage, Bool)] { compactMap { if case .reject(let m, let l) = $0 { return (m, l) } else { return nil } } }
    var ignored: [String] { compactMap { if case .ignored(let s) = $0 { return s } else { return nil } } }
    var finished: (result: PCPResult, version: String?, description: String)? {
        for action in self { if case .finished(let r, let v, let d) = action { return (r, v, d) } }
        return nil
    }
    var wantsToStart: Bool { contains(.wantsToStart) }
}
