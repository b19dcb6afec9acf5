import Testing
@testable import CloudLink

/// One log line per change of state while the cloud is down (pure, time passed in).
struct OutageLogTests {
    @Test func logsTheFirstFailureAndEachNewReasonAndCountsTheRepeats() {
        var log = OutageLog()
        #expect(log.failed(reason: "refused", at: .seconds(0)) == .failure(repeatsBefore: 0))
        #expect(log.failed(reason: "refused", at: .seconds(1)) == .repeated(attempts: 2))
        #expect(log.failed(reason: "refused", at: .seconds(3)) == .repeated(attempts: 3))
        #expect(log.failed(reason: "certificate", at: .seconds(7)) == .failure(repeatsBefore: 2))
        #expect(log.failed(reason: "certificate", at: .seconds(15)) == .repeated(attempts: 5))
        let up = log.connected(at: .seconds(20))
        #expect(up?.failures == 5)
        #expect(up?.outage == .seconds(20))
        // A new outage starts over.
        #expect(log.connected(at: .seconds(21)) == nil)
        #expect(log.failed(reason: "certificate", at: .seconds(30)) == .failure(repeatsBefore: 0))
    }

    @Test func remindsEveryTenMinutesWhileTheSameFailureLasts() {
        #expect(OutageLog.reminderInterval == .seconds(600))
        var log = OutageLog()
        _ = log.failed(reason: "refused", at: .seconds(100))
        #expect(log.failed(reason: "refused", at: .seconds(699)) == .repeated(attempts: 2))
        #expect(log.failed(reason: "refused", at: .seconds(700)) == .reminder(attempts: 3, outage: .seconds(600)))
        #expect(log.failed(reason: "refused", at: .seconds(760)) == .repeated(attempts: 4))
    }

    @Test func aRefusalBetweenTwoNetworkFailuresMakesTheNextOneNewAgain() {
        var log = OutageLog()
        _ = log.failed(reason: "refused", at: .zero)
        log.otherFailure(at: .seconds(1))
        #expect(log.failed(reason: "refused", at: .seconds(2)) == .failure(repeatsBefore: 0))
        #expect(log.connected(at: .seconds(3))?.failures == 3)
    }
}
