import Testing
import Foundation
import GatewayCore
@testable import PCP

/// The stored form of a task: restored in each phase with its deadline, counters and fragments.
@Suite struct PCPUpgradeSnapshotTests {
    typealias H = UpgradeHarness

    /// Drives a task into `phase` and 10 s further.
    static func harness(in phase: PCPUpgradePhase) -> UpgradeHarness {
        var h = H(H.settings(retries: 2))
        switch phase {
        case .waitForDevice: break
        case .queryVersion: h.toQueryVersion()
        case .waitForPermit: h.toWaitForPermit()
        case .notified: h.toNotified()
        case .downloading: h.toDownloading(); h.receive(.fragmentRequest(targetVersion: H.target, index: 2))
        case .executing: h.toExecuting()
        case .waitResult: h.toWaitResult()
        case .retryWait: h.toQueryVersion(); h.advance(.seconds(180))
        case .succeeded: h.toWaitResult(); h.receive(.upgradeResult(result: .success, version: H.target))
        case .failed: h.toNotified(); h.receive(.newVersionAnswer(.alreadyLatest))
        case .cancelled: h.toDownloading(); h.handle(.cancel(.withdrawn))
        }
        h.clock.advance(by: .seconds(10))
        return h
    }

    /// Through JSON, as the store keeps it.
    static func stored(_ snapshot: PCPUpgradeSnapshot) throws -> PCPUpgradeSnapshot {
        try JSONDecoder().decode(PCPUpgradeSnapshot.self, from: JSONEncoder().encode(snapshot))
    }

    @Test(arguments: PCPUpgradePhase.allCases)
    func aRestoredTaskIsTheSameTaskWithTheSameTimeLeft(phase: PCPUpgradePhase) throws {
        let h = Self.harness(in: phase)
        #expect(h.phase == phase)
        let snapshot = try Self.stored(h.machine.snapshot(now: h.now))
        #expect(snapshot == h.machine.snapshot(now: h.now))
        let later = ManualClock()
        later.advance(by: .seconds(5_000))
        let restored = try Machine(restoring: snapshot, now: later.now)
        #expect(restored.phase == phase)
        #expect(restored.attempt == h.machine.attempt)
        #expect(restored.served == h.machine.served)
        #expect(restored.executeSent == h.machine.executeSent)
        #expect(restored.lastReportedVersion == h.machine.lastReportedVersion)
        #expect(restored.outcome == h.machine.outcome)
        let left = h.machine.nextDeadline.map { h.now.duration(to: $0) }
        #expect(restored.nextDeadline.map { later.now.duration(to: $0) } == left)
        #expect(restored.snapshot(now: later.now) == snapshot)
    }

    @Test func timeThatPassedWhileDownCountsAgainstTheDeadline() throws {
        let h = Self.harness(in: .queryVersion)
        let snapshot = h.machine.snapshot(now: h.now)
        #expect(snapshot.remaining == .seconds(170))
        let clock = ManualClock()
        var restored = try Machine(restoring: snapshot, now: clock.now, elapsed: .seconds(100))
        clock.advance(by: .seconds(69))
        #expect(restored.handle(.timer, now: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(restored.handle(.timer, now: clock.now).transitions.last?.to == .retryWait)
    }

    @Test func aDeadlinePassedWhileDownFiresOnTheFirstTimer() throws {
        let h = Self.harness(in: .downloading)
        let clock = ManualClock()
        var restored = try Machine(restoring: h.machine.snapshot(now: h.now), now: clock.now, elapsed: .seconds(7_200))
        #expect(restored.nextDeadline == clock.now)
        #expect(restored.handle(.timer, now: clock.now).transitions.last?.to == .retryWait)
    }

    @Test func aWallClockSetBackCountsAsNoTimePassed() throws {
        let h = Self.harness(in: .waitForDevice)
        let clock = ManualClock()
        let restored = try Machine(restoring: h.machine.snapshot(now: h.now), now: clock.now, elapsed: .seconds(-3_600))
        #expect(restored.nextDeadline == clock.now.advanced(by: .seconds(86_390)))
    }

    @Test func aTaskRestoredInDownloadingServesWithoutNotifyingAgain() throws {
        let h = Self.harness(in: .downloading)
        let clock = ManualClock()
        var restored = try Machine(restoring: Self.stored(h.machine.snapshot(now: h.now)), now: clock.now)
        let again = restored.handle(.received(.fragmentRequest(targetVersion: H.target, index: 2)), now: clock.now)
        #expect(again.served == [2])
        #expect(again.sent.isEmpty)
        #expect(again.progress.isEmpty)
        let next = restored.handle(.received(.fragmentRequest(targetVersion: H.target, index: 3)), now: clock.now)
        #expect(next.served == [3])
        #expect(next.progress == [20])
        #expect(next.transitions.isEmpty)
        #expect(restored.handle(.received(.downloadResult(.success)), now: clock.now).sent == [.downloadResultAck(.success), .execute])
    }

    @Test func aTaskRestoredWhileExecutingTakesTheExecuteAnswer() throws {
        let h = Self.harness(in: .executing)
        let clock = ManualClock()
        var restored = try Machine(restoring: Self.stored(h.machine.snapshot(now: h.now)), now: clock.now)
        _ = restored.handle(.received(.executeAnswer(.success)), now: clock.now)
        #expect(restored.phase == .waitResult)
    }

    @Test func aRestoredSucceededTaskAnswersARepeatedUpgradeResultTheSame() throws {
        let h = Self.harness(in: .succeeded)
        let clock = ManualClock()
        var restored = try Machine(restoring: Self.stored(h.machine.snapshot(now: h.now)), now: clock.now)
        let again = restored.handle(.received(.upgradeResult(result: .success, version: H.target)), now: clock.now)
        #expect(again.sent == [.upgradeResultAck(.success)])
    }

    @Test func inconsistentSnapshotsAreRefused() throws {
        let h = Self.harness(in: .downloading)
        var snapshot = h.machine.snapshot(now: h.now)
        snapshot.format = 2
        #expect(throws: PCPUpgradeRestoreError.format(2)) { try Machine(restoring: snapshot, now: h.now) }
        snapshot = h.machine.snapshot(now: h.now)
        snapshot.remaining = nil
        #expect(throws: PCPUpgradeRestoreError.self) { try Machine(restoring: snapshot, now: h.now) }
        snapshot = h.machine.snapshot(now: h.now)
        snapshot.attempt = 4
        #expect(throws: PCPUpgradeRestoreError.self) { try Machine(restoring: snapshot, now: h.now) }
        snapshot = h.machine.snapshot(now: h.now)
        snapshot.served = FragmentSet(capacity: 11)
        #expect(throws: PCPUpgradeRestoreError.self) { try Machine(restoring: snapshot, now: h.now) }
        snapshot = Self.harness(in: .succeeded).machine.snapshot(now: h.now)
        snapshot.remaining = .seconds(1)
        #expect(throws: PCPUpgradeRestoreError.self) { try Machine(restoring: snapshot, now: h.now) }
    }
}
