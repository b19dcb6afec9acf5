import Foundation
import GatewayCore
import LwM2M
import Testing

@Suite struct CommandQueueTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func command(_ id: String) -> ChildCommand {
        ChildCommand(requestId: id, nodeId: "861234567890123", serviceId: "Valve", commandName: "SET", paras: ["on": true])
    }
    func sent(_ actions: [CommandQueue.Action]) -> [String] {
        actions.compactMap { if case .send(let entry) = $0 { entry.requestId } else { nil } }
    }
    func finished(_ actions: [CommandQueue.Action]) -> [(String, CommandState, Int)] {
        actions.compactMap { if case .finished(let entry, let outcome) = $0 { (entry.requestId, entry.state, outcome.resultCode) } else { nil } }
    }

    @Test func cachedCommandsWaitForTheNextReportAndGoOneAtATimeInOrder() {
        var queue = CommandQueue(nodeId: "861234567890123")
        let a = queue.submit(command("a"), strategy: .cached, at: t0)
        #expect(sent(a).isEmpty)
        #expect(a == [.save(queue.entries[0])])
        #expect(queue.entries[0].state == .pending)
        _ = queue.submit(command("b"), strategy: .cached, at: t0)

        let wake = queue.deviceReachable(at: t0 + 3600)
        #expect(sent(wake) == ["a"])
        #expect(queue.entries.map(\.state) == [.sent, .pending])
        let midA = queue.entries[0].mid
        #expect(queue.acknowledged(mid: midA, at: t0 + 3601).count == 1)
        #expect(queue.entries[0].state == .delivered)
        // b is not sent before a's result.
        #expect(sent(queue.deviceReachable(at: t0 + 3602)).isEmpty)
        let result = queue.responded(mid: midA, success: true, paras: ["ok": 1], at: t0 + 3603)
        #expect(finished(result).map(\.0) == ["a"])
        #expect(finished(result).map(\.1) == [.successful])
        #expect(finished(result).map(\.2) == [0])
        #expect(sent(result) == ["b"])
    }

    /// `delay` is the platform's cached mode: even a module heard a moment ago gets the command
    /// only with its next uplink, the one moment a PSM module is known to listen.
    @Test func aDelayCommandWaitsForTheNextReportEvenWhenTheDeviceWasJustHeard() {
        var queue = CommandQueue(nodeId: "n", awakeWindow: .seconds(20))
        _ = queue.deviceReachable(at: t0)
        let queued = queue.submit(command("a"), strategy: .cached, at: t0 + 5)
        #expect(sent(queued).isEmpty)
        #expect(queue.isReachable(at: t0 + 5))
        #expect(queue.entries.map(\.state) == [.pending])
        // The next report, 25 s after the first: now it goes.
        #expect(sent(queue.deviceReachable(at: t0 + 30)) == ["a"])
        // `immediately` is the strategy that trusts the awake window.
        #expect(sent(queue.submit(command("b"), strategy: .immediate, at: t0 + 31)).isEmpty) // behind a
        _ = queue.responded(mid: queue.entries[0].mid, success: true, paras: [:], at: t0 + 32)
        #expect(queue.entries.map(\.state) == [.sent])
    }

    @Test func commandsQueuedBeforeAReportGoInSequenceAfterIt() {
        var queue = CommandQueue(nodeId: "n", awakeWindow: .seconds(20))
        _ = queue.deviceReachable(at: t0)
        _ = queue.submit(command("a"), strategy: .cached, at: t0 + 1)
        _ = queue.submit(command("b"), strategy: .cached, at: t0 + 2)
        #expect(sent(queue.deviceReachable(at: t0 + 60)) == ["a"])
        let c = queue.submit(command("c"), strategy: .cached, at: t0 + 61)
        #expect(sent(c).isEmpty)
        let done = queue.responded(mid: queue.entries[0].mid, success: true, paras: [:], at: t0 + 62)
        #expect(sent(done) == ["b"])
        // c came after the report: it waits for the next one.
        #expect(sent(queue.responded(mid: queue.entries[0].mid, success: true, paras: [:], at: t0 + 63)).isEmpty)
        #expect(sent(queue.deviceReachable(at: t0 + 120)) == ["c"])
    }

    @Test func responseWithAnotherMidChangesNothing() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        _ = queue.deviceReachable(at: t0)
        let mid = queue.entries[0].mid
        #expect(queue.responded(mid: mid &+ 7, success: true, paras: [:], at: t0).isEmpty)
        #expect(queue.entries[0].state == .sent)
        let failed = queue.responded(mid: mid, success: false, paras: ["err": 3], at: t0)
        #expect(finished(failed).map(\.1) == [.failed])
        #expect(finished(failed).map(\.2) == [DownlinkResultCode.deviceError.rawValue])
    }

    @Test func immediateCommandToASleepingDeviceFailsAtOnce() {
        var queue = CommandQueue(nodeId: "n", awakeWindow: .seconds(20))
        _ = queue.deviceReachable(at: t0)
        let asleep = queue.submit(command("a"), strategy: .immediate, at: t0 + 20)
        #expect(finished(asleep).map(\.1) == [.failed])
        #expect(finished(asleep).map(\.2) == [DownlinkResultCode.deviceUnreachable.rawValue])
        #expect(queue.entries.isEmpty)
        _ = queue.deviceReachable(at: t0 + 100)
        let awake = queue.submit(command("b"), strategy: .immediate, at: t0 + 119)
        #expect(sent(awake) == ["b"])
    }

    @Test func expiryAfter24HoursToTheSecond() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        #expect(queue.nextDeadline == t0 + 86_400)
        #expect(queue.tick(at: t0 + 86_399).isEmpty)
        let expired = queue.tick(at: t0 + 86_400)
        #expect(finished(expired).map(\.1) == [.expired])
        #expect(expired.contains(.remove(requestId: "a")))
        #expect(queue.entries.isEmpty)
    }

    @Test func expiredCommandsAreNotSentWhenTheDeviceWakesLate() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, expiresIn: .seconds(60), at: t0)
        _ = queue.submit(command("b"), strategy: .cached, at: t0)
        let wake = queue.deviceReachable(at: t0 + 61)
        #expect(finished(wake).map(\.0) == ["a"])
        #expect(sent(wake) == ["b"])
    }

    @Test func noAckAfterRetransmissionsIsTimeoutAndTheNextGoesWhenTheDeviceIsBack() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        _ = queue.submit(command("b"), strategy: .cached, at: t0)
        _ = queue.deviceReachable(at: t0)
        let timedOut = queue.deliveryFailed(mid: queue.entries[0].mid, timedOut: true, at: t0 + 225)
        #expect(finished(timedOut).map(\.1) == [.timeout])
        #expect(sent(timedOut).isEmpty)
        #expect(sent(queue.deviceReachable(at: t0 + 3600)) == ["b"])
    }

    @Test func cachedCommandWithoutASessionGoesBackToPending() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        _ = queue.deviceReachable(at: t0)
        let back = queue.deliveryFailed(mid: queue.entries[0].mid, timedOut: false, at: t0 + 1)
        #expect(finished(back).isEmpty)
        #expect(queue.entries[0].state == .pending)
        #expect(sent(queue.deviceReachable(at: t0 + 100)) == ["a"])
    }

    @Test func deliveredWithoutResultReleasesTheQueueAfterTheWait() {
        var queue = CommandQueue(nodeId: "n", resultWait: .seconds(180))
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        _ = queue.submit(command("b"), strategy: .cached, at: t0)
        _ = queue.deviceReachable(at: t0)
        _ = queue.acknowledged(mid: queue.entries[0].mid, at: t0 + 1)
        #expect(queue.tick(at: t0 + 180).isEmpty)
        _ = queue.deviceReachable(at: t0 + 170)
        let released = queue.tick(at: t0 + 181)
        #expect(finished(released).map(\.0) == ["a"])
        #expect(finished(released).map(\.2) == [DownlinkResultCode.timeout.rawValue])
        #expect(sent(released) == ["b"])
    }

    @Test func restoreResendsUnacknowledgedAndKeepsOrderAndMids() {
        var queue = CommandQueue(nodeId: "n")
        _ = queue.submit(command("a"), strategy: .cached, at: t0)
        _ = queue.submit(command("b"), strategy: .cached, at: t0 + 1)
        _ = queue.deviceReachable(at: t0 + 2)
        var restored = CommandQueue(nodeId: "n", restoring: queue.entries.reversed())
        #expect(restored.entries.map(\.requestId) == ["a", "b"])
        #expect(restored.entries.map(\.state) == [.pending, .pending])
        #expect(sent(restored.deviceReachable(at: t0 + 10)) == ["a"])
        let next = restored.submit(command("c"), strategy: .cached, at: t0 + 11)
        let mids = restored.entries.map(\.mid)
        #expect(Set(mids).count == 3)
        _ = next
    }

    @Test func aCommandWithoutADeclaredResponseEndsAtItsAckAndTheNextGoes() {
        var queue = CommandQueue(nodeId: "861234567890123")
        _ = queue.submit(command("label"), strategy: .cached, expectsResponse: false, at: t0)
        _ = queue.submit(command("next"), strategy: .cached, at: t0)
        #expect(sent(queue.deviceReachable(at: t0 + 10)) == ["label"])
        let ack = queue.acknowledged(mid: queue.entries[0].mid, at: t0 + 11)
        #expect(finished(ack).map(\.0) == ["label"])
        #expect(finished(ack).map(\.1) == [.delivered])
        #expect(finished(ack).map(\.2) == [0])
        #expect(sent(ack) == ["next"])
    }

    @Test func queueIsBounded() {
        var queue = CommandQueue(nodeId: "n")
        for index in 0..<CommandQueue.maxQueuedPerDevice { _ = queue.submit(command("c\(index)"), strategy: .cached, at: t0) }
        let refused = queue.submit(command("one-too-many"), strategy: .cached, at: t0)
        #expect(finished(refused).map(\.2) == [DownlinkResultCode.rejected.rawValue])
        #expect(queue.entries.count == CommandQueue.maxQueuedPerDevice)
    }
}
