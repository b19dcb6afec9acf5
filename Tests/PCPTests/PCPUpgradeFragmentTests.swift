import Testing
import GatewayCore
@testable import PCP

/// Fragment answers (0x00 / 0x80 / 0x81), implicit consent and progress steps.
@Suite struct PCPUpgradeFragmentTests {
    typealias H = UpgradeHarness

    @Test func aFragmentRequestWithoutTheNewVersionAnswerIsConsent() {
        var h = H()
        h.toNotified()
        let deadline = h.machine.nextDeadline
        let actions = h.receive(.fragmentRequest(targetVersion: H.target, index: 0))
        #expect(h.phase == .downloading)
        #expect(actions.served == [0])
        #expect(actions.transitions.first?.reason.contains("implicit consent") == true)
        #expect(h.machine.nextDeadline == deadline)
    }

    @Test func aRequestForAnotherVersionIsNoConsent() {
        var h = H()
        h.toNotified()
        let actions = h.receive(.fragmentRequest(targetVersion: "V3.0", index: 0))
        #expect(actions.rejects.first?.0 == .fragment(result: .noTask, index: 0, data: []))
        #expect(actions.transitions.isEmpty)
        #expect(h.phase == .notified)
    }

    @Test func anIndexBeyondTheCountGets0x81() {
        var h = H()
        h.toDownloading()
        let last = h.receive(.fragmentRequest(targetVersion: H.target, index: 9))
        #expect(last.served == [9])
        let beyond = h.receive(.fragmentRequest(targetVersion: H.target, index: 10))
        #expect(beyond.sent == [.fragment(result: .noSuchFragment, index: 10, data: [])])
        #expect(beyond.served.isEmpty)
        #expect(beyond.progress.isEmpty)
        #expect(h.receive(.fragmentRequest(targetVersion: H.target, index: .max)).sent == [.fragment(result: .noSuchFragment, index: .max, data: [])])
        #expect(h.phase == .downloading)
    }

    @Test func anotherTargetVersionGets0x80() {
        var h = H()
        h.toDownloading()
        let actions = h.receive(.fragmentRequest(targetVersion: "V3.0", index: 0))
        #expect(actions.rejects.first?.0 == .fragment(result: .noTask, index: 0, data: []))
        #expect(actions.served.isEmpty)
        #expect(h.phase == .downloading)
    }

    @Test func aPaddedTargetVersionIsTheSameVersion() {
        var h = H()
        h.toDownloading()
        #expect(h.receive(.fragmentRequest(targetVersion: H.target + "\0\0", index: 0)).served == [0])
    }

    @Test func progressIsReportedEvery5PercentAndAt100() {
        var h = H(H.settings(fragmentSize: 32, packageSize: 32 * 200))
        h.toDownloading()
        var progress: [Int] = []
        for index in UInt16(0)..<200 {
            progress += h.receive(.fragmentRequest(targetVersion: H.target, index: index)).progress
        }
        #expect(progress == Array(stride(from: 5, through: 100, by: 5)))
    }

    @Test func progressWithFewFragmentsReportsEachOne() {
        var h = H(H.settings(fragmentSize: 100, packageSize: 250))
        h.toDownloading()
        let progress = (UInt16(0)..<3).flatMap { h.receive(.fragmentRequest(targetVersion: H.target, index: $0)).progress }
        #expect(progress == [33, 66, 100])
    }

    @Test func progressFollowsDistinctFragmentsInAnyOrder() {
        var h = H(H.settings(fragmentSize: 32, packageSize: 32 * 1_000))
        h.toDownloading()
        var progress: [Int] = []
        for index in stride(from: UInt16(999), through: 0, by: -1) {
            progress += h.receive(.fragmentRequest(targetVersion: H.target, index: index)).progress
            progress += h.receive(.fragmentRequest(targetVersion: H.target, index: index)).progress
        }
        #expect(progress == Array(stride(from: 5, through: 100, by: 5)))
    }

    @Test func fragmentsAreStillServedWhileTheDeviceInstalls() {
        var h = H()
        h.toExecuting()
        #expect(h.receive(.fragmentRequest(targetVersion: H.target, index: 4)).served == [4])
        h.receive(.executeAnswer(.success))
        #expect(h.receive(.fragmentRequest(targetVersion: H.target, index: 5)).served == [5])
        #expect(h.phase == .waitResult)
    }

    @Test func aRetryKeepsTheFragmentsAlreadyServed() {
        var h = H(H.settings(retries: 1))
        h.toDownloading()
        for index in UInt16(0)..<5 { h.receive(.fragmentRequest(targetVersion: H.target, index: index)) }
        h.advance(.seconds(3_600))
        #expect(h.phase == .retryWait)
        h.advance(.seconds(300))
        h.toDownloading()
        #expect(h.machine.served.count == 5)
        let resumed = (UInt16(5)..<10).flatMap { h.receive(.fragmentRequest(targetVersion: H.target, index: $0)).progress }
        #expect(resumed == [60, 70, 80, 90, 100])
    }
}
