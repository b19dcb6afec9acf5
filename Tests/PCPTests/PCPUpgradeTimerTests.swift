import Testing
import GatewayCore
@testable import PCP

/// Every timer of the upgrade task, to the second on a manual clock (spec lwm2m-coap §2.10).
@Suite struct PCPUpgradeTimerTests {
    @Test func timersAreThePlatformsValues() {
        #expect(PCPUpgradeTimers.waitForDevice == .seconds(86_400))
        #expect(PCPUpgradeTimers.versionQuery == .seconds(180))
        #expect(PCPUpgradeTimers.download == .seconds(3_600))
        #expect(PCPUpgradeTimers.upgradeResult == .seconds(1_800))
        #expect(PCPUpgradeTimers.defaultRetryCount == 2)
        #expect(PCPUpgradeTimers.defaultRetryInterval == .seconds(300))
    }

    @Test func theDeviceHas24HoursToReportAndTheTimeoutIsNotRetried() {
        var h = UpgradeHarness(UpgradeHarness.settings(retries: 2))
        #expect(h.machine.nextDeadline == h.now.advanced(by: .seconds(86_400)))
        #expect(h.advance(.seconds(86_399)).isEmpty)
        #expect(h.phase == .waitForDevice)
        let actions = h.advance(.seconds(1))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .internalError)
        #expect(actions.finished?.description.contains("did not report within 24 h") == true)
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func aReportJustBeforeTheDeadlineQueriesTheVersion() {
        var h = UpgradeHarness()
        h.advance(.seconds(86_399))
        let actions = h.handle(.deviceReported)
        #expect(actions.sent == [.queryVersion])
        #expect(h.phase == .queryVersion)
        #expect(actions.contains(.schedule(h.now.advanced(by: .seconds(180)))))
    }

    @Test func theVersionAnswerHas3Minutes() {
        var h = UpgradeHarness()
        h.toQueryVersion()
        #expect(h.advance(.seconds(179)).isEmpty)
        let actions = h.advance(.seconds(1))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .internalError)
        #expect(actions.finished?.description == "the device did not answer the version query within 3 min")
    }

    @Test func theStartPermitHasNoTimer() {
        var h = UpgradeHarness()
        h.toWaitForPermit()
        #expect(h.machine.nextDeadline == nil)
        #expect(h.advance(.seconds(7 * 86_400)).isEmpty)
        #expect(h.phase == .waitForPermit)
    }

    @Test func withoutAnswerOrFragmentRequestTheNotificationFailsAfter60Minutes() {
        var h = UpgradeHarness()
        h.toNotified()
        #expect(h.advance(.seconds(3_599)).isEmpty)
        let actions = h.advance(.seconds(1))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .downloadTimeout)
        #expect(actions.finished?.description.contains("neither answered") == true)
    }

    @Test func theDownloadHas60MinutesFromTheNotificationNotFromTheAnswer() {
        var h = UpgradeHarness()
        h.toNotified()
        h.clock.advance(by: .seconds(600))
        h.receive(.newVersionAnswer(.success))
        #expect(h.phase == .downloading)
        h.receive(.fragmentRequest(targetVersion: UpgradeHarness.target, index: 0))
        #expect(h.advance(.seconds(2_999)).isEmpty)
        let actions = h.advance(.seconds(1))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .downloadTimeout)
        #expect(actions.finished?.description.contains("1 of 10 fragments served") == true)
    }

    @Test func theUpgradeResultHas30MinutesFromTheExecuteCommand() {
        var h = UpgradeHarness()
        h.toExecuting()
        h.clock.advance(by: .seconds(600))
        h.receive(.executeAnswer(.success))
        #expect(h.phase == .waitResult)
        #expect(h.advance(.seconds(1_199)).isEmpty)
        let actions = h.advance(.seconds(1))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .internalError)
        #expect(actions.finished?.description.contains("within 30 min of the execute command") == true)
    }

    @Test func withoutTheExecuteAnswerTheResultStillHas30Minutes() {
        var h = UpgradeHarness()
        h.toExecuting()
        #expect(h.advance(.seconds(1_799)).isEmpty)
        h.advance(.seconds(1))
        #expect(h.phase == .failed)
    }

    @Test func aFailedAttemptIsRetriedAfterExactly5Minutes() {
        var h = UpgradeHarness(UpgradeHarness.settings(retries: 2))
        h.toQueryVersion()
        let failure = h.advance(.seconds(180))
        #expect(h.phase == .retryWait)
        #expect(failure.finished == nil)
        #expect(failure.transitions.last?.reason.contains("retry in 5 min") == true)
        #expect(h.advance(.seconds(299)).isEmpty)
        let retry = h.advance(.seconds(1))
        #expect(h.phase == .waitForDevice)
        #expect(h.machine.attempt == 2)
        #expect(retry.contains(.schedule(h.now.advanced(by: .seconds(86_400)))))
        #expect(h.handle(.deviceReported).sent == [.queryVersion])
    }

    @Test func theFinalFailureComesOnlyWhenTheRetriesAreUsedUp() {
        var h = UpgradeHarness(UpgradeHarness.settings(retries: 2))
        for attempt in 1...2 {
            h.toQueryVersion()
            #expect(h.advance(.seconds(180)).finished == nil)
            #expect(h.phase == .retryWait)
            #expect(h.machine.attempt == attempt)
            h.advance(.seconds(300))
        }
        h.toQueryVersion()
        let last = h.advance(.seconds(180))
        #expect(h.phase == .failed)
        #expect(h.machine.attempt == 3)
        #expect(last.finished?.result == .internalError)
        #expect(last.finished?.description.hasSuffix("(after 2 retries)") == true)
        #expect(h.advance(.seconds(300)).isEmpty)
    }

    @Test func aConfiguredRetryIntervalIsUsed() {
        var h = UpgradeHarness(UpgradeHarness.settings(retries: 1, interval: .seconds(60)))
        h.toNotified()
        h.receive(.newVersionAnswer(.deviceInUse))
        #expect(h.phase == .retryWait)
        #expect(h.advance(.seconds(59)).isEmpty)
        h.advance(.seconds(1))
        #expect(h.phase == .waitForDevice)
    }

    @Test func aTimerBeforeTheDeadlineChangesNothing() {
        var h = UpgradeHarness()
        h.toDownloading()
        #expect(h.handle(.timer).isEmpty)
        #expect(h.phase == .downloading)
    }
}
