import Testing
import GatewayCore
@testable import PCP

/// What real modules do: retried fragments, re-sent 0x16 and 0x18, 0x17 answers on their own
/// timer, requests after the task ended, version reports at any time.
@Suite struct PCPUpgradeQuirkTests {
    typealias H = UpgradeHarness

    @Test func aFragmentRequestedTwiceIsAnsweredTheSameAndCountedOnce() {
        var h = H()
        h.toDownloading()
        let first = h.receive(.fragmentRequest(targetVersion: H.target, index: 3))
        h.clock.advance(by: .seconds(2))
        let again = h.receive(.fragmentRequest(targetVersion: H.target, index: 3))
        #expect(first.served == [3])
        #expect(again.served == [3])
        #expect(first.progress == [10])
        #expect(again.progress.isEmpty)
        #expect(again.transitions.isEmpty)
        #expect(h.machine.served.count == 1)
    }

    @Test func aDownloadResultResentBeforeTheExecuteAnswerGetsTheExecuteAgain() {
        var h = H()
        h.toExecuting()
        let deadline = h.machine.nextDeadline
        h.clock.advance(by: .seconds(30))
        let again = h.receive(.downloadResult(.success))
        #expect(again.sent == [.downloadResultAck(.success), .execute])
        #expect(again.transitions.isEmpty)
        #expect(h.phase == .executing)
        #expect(h.machine.nextDeadline == deadline)
    }

    @Test func aDownloadResultResentAfterTheExecuteAnswerIsOnlyAcknowledged() {
        var h = H()
        h.toWaitResult()
        let again = h.receive(.downloadResult(.success))
        #expect(again.sent == [.downloadResultAck(.success)])
        #expect(again.transitions.isEmpty)
        #expect(h.phase == .waitResult)
    }

    @Test func anExecuteAnswerWithoutOurExecuteIsNotTaken() {
        var h = H()
        h.toDownloading()
        let early = h.receive(.executeAnswer(.success))
        #expect(early.transitions.isEmpty)
        #expect(early.ignored.count == 1)
        #expect(h.phase == .downloading)
        #expect(!h.machine.executeSent)
        let refusal = h.receive(.executeAnswer(.deviceInUse))
        #expect(refusal.finished == nil)
        #expect(h.phase == .downloading)
        h.receive(.downloadResult(.success))
        #expect(h.machine.executeSent)
        h.receive(.executeAnswer(.success))
        #expect(h.phase == .waitResult)
    }

    @Test func aSecondExecuteAnswerInWaitResultIsIgnored() {
        var h = H()
        h.toWaitResult()
        let actions = h.receive(.executeAnswer(.deviceInUse))
        #expect(actions.finished == nil)
        #expect(h.phase == .waitResult)
    }

    @Test func requestsAfterTheEndAreLoggedOncePerRun() {
        var h = H()
        h.toDownloading()
        h.handle(.cancel(.withdrawn))
        var flags: [Bool] = []
        for _ in 0..<3 {
            h.clock.advance(by: .seconds(30))
            let rejects = h.receive(.fragmentRequest(targetVersion: H.target, index: 0)).rejects
            #expect(rejects.count == 1)
            #expect(rejects.first?.0 == .fragment(result: .noTask, index: 0, data: []))
            flags += rejects.map(\.1)
        }
        #expect(flags == [true, false, false])
        h.clock.advance(by: .seconds(599))
        #expect(h.receive(.downloadResult(.success)).rejects.map(\.1) == [false])
        h.clock.advance(by: .seconds(600))
        #expect(h.receive(.downloadResult(.success)).rejects.map(\.1) == [true])
        #expect(h.machine.rejectedRequests == 5)
    }

    @Test func requestsWithNoTaskAtAllGet0x80() {
        #expect(PCPMessage.fragmentRequest(targetVersion: "V", index: 7).noTaskAnswer == .fragment(result: .noTask, index: 7, data: []))
        #expect(PCPMessage.downloadResult(.success).noTaskAnswer == .downloadResultAck(.noTask))
        #expect(PCPMessage.upgradeResult(result: .success, version: "V").noTaskAnswer == .upgradeResultAck(.noTask))
        #expect(PCPMessage.versionReport(result: .success, version: "V").noTaskAnswer == nil)
        #expect(PCPMessage.newVersionAnswer(.success).noTaskAnswer == nil)
        #expect(PCPMessage.executeAnswer(.success).noTaskAnswer == nil)
        #expect(PCPMessage.queryVersion.noTaskAnswer == nil)
    }

    @Test func requestsBeforeTheNotificationGet0x80() {
        var h = H()
        h.toQueryVersion()
        let actions = h.receive(.fragmentRequest(targetVersion: H.target, index: 0))
        #expect(actions.rejects.first?.0 == .fragment(result: .noTask, index: 0, data: []))
        #expect(actions.served.isEmpty)
        #expect(h.receive(.upgradeResult(result: .success, version: H.target)).rejects.first?.0 == .upgradeResultAck(.noTask))
        #expect(h.phase == .queryVersion)
    }

    @Test func aLateOrUnsolicitedVersionReportIsRememberedAndIgnored() {
        var h = H()
        let early = h.receive(.versionReport(result: .success, version: "V0.9"))
        #expect(h.machine.lastReportedVersion == "V0.9")
        #expect(early.sent == [.queryVersion])
        #expect(h.phase == .queryVersion)
        h.receive(.versionReport(result: .success, version: H.current))
        h.handle(.startPermitted)
        h.receive(.newVersionAnswer(.success))
        let late = h.receive(.versionReport(result: .success, version: "V1.1"))
        #expect(late.transitions.isEmpty)
        #expect(late.ignored.count == 1)
        #expect(h.phase == .downloading)
        #expect(h.machine.lastReportedVersion == "V1.1")
    }

    @Test func aRepeatedUpgradeResultAfterSuccessIsAnsweredTheSame() {
        var h = H()
        h.toWaitResult()
        h.receive(.upgradeResult(result: .success, version: H.target))
        let again = h.receive(.upgradeResult(result: .success, version: H.target))
        #expect(again.sent == [.upgradeResultAck(.success)])
        #expect(again.transitions.isEmpty)
        #expect(again.finished == nil)
        let other = h.receive(.upgradeResult(result: .installFailed, version: H.current))
        #expect(other.rejects.first?.0 == .upgradeResultAck(.noTask))
    }

    @Test func aDuplicateNewVersionAnswerIsIgnored() {
        var h = H()
        h.toDownloading()
        let actions = h.receive(.newVersionAnswer(.deviceInUse))
        #expect(actions.finished == nil)
        #expect(h.phase == .downloading)
    }

    @Test func platformMessagesFromTheDeviceAreIgnored() {
        var h = H()
        h.toDownloading()
        let actions = h.receive(.execute)
        #expect(actions.ignored.count == 1)
        #expect(actions.sent.isEmpty)
        #expect(h.phase == .downloading)
    }
}
