import GatewayCore
import Testing
@testable import Modbus

@Suite struct DeviceHealthTests {
    typealias Health = DeviceHealth<ManualClock.Instant>
    let clock = ManualClock()
    let policy = Health.Policy(failuresBeforeOffline: 3, initialBackoff: .seconds(5), maxBackoff: .seconds(20))

    @Test func onlineAfterTheFirstGoodCycle() {
        var health = Health(policy: policy)
        #expect(health.state == .unknown)
        #expect(health.cycleSucceeded(at: clock.now) == .reportOnline)
        #expect(health.cycleSucceeded(at: clock.now) == nil)
        #expect(health.state == .online)
    }

    @Test func offlineAfterNFailedCyclesInARow() {
        var health = Health(policy: policy)
        _ = health.cycleSucceeded(at: clock.now)
        #expect(health.cycleFailed(at: clock.now) == nil)
        #expect(health.cycleFailed(at: clock.now) == nil)
        // A good cycle in between starts the count again.
        #expect(health.cycleSucceeded(at: clock.now) == nil)
        #expect(health.cycleFailed(at: clock.now) == nil)
        #expect(health.cycleFailed(at: clock.now) == nil)
        #expect(health.cycleFailed(at: clock.now) == .reportOffline)
        #expect(health.state == .offline)
    }

    @Test func aSlaveNeverSeenGoesOfflineToo() {
        var health = Health(policy: Health.Policy(failuresBeforeOffline: 1))
        #expect(health.cycleFailed(at: clock.now) == .reportOffline)
    }

    @Test func offlineRetriesBackOffToTheMaximum() {
        var health = Health(policy: policy)
        for _ in 0..<3 { _ = health.cycleFailed(at: clock.now) }
        var waits: [Duration] = []
        for _ in 0..<5 {
            let retryAt = health.retryAt ?? clock.now
            waits.append(clock.now.duration(to: retryAt))
            #expect(!health.mayPoll(at: clock.now))
            clock.advance(by: clock.now.duration(to: retryAt) - .seconds(1))
            #expect(!health.mayPoll(at: clock.now))
            clock.advance(by: .seconds(1))
            #expect(health.mayPoll(at: clock.now))
            #expect(health.cycleFailed(at: clock.now) == nil)
        }
        #expect(waits == [.seconds(5), .seconds(10), .seconds(20), .seconds(20), .seconds(20)])
    }

    @Test func backOnlineResetsTheBackoff() {
        var health = Health(policy: policy)
        for _ in 0..<5 { _ = health.cycleFailed(at: clock.now) }
        #expect(health.cycleSucceeded(at: clock.now) == .reportOnline)
        #expect(health.retryAt == nil)
        #expect(health.mayPoll(at: clock.now))
        for _ in 0..<3 { _ = health.cycleFailed(at: clock.now) }
        #expect(health.retryAt == clock.now.advanced(by: .seconds(5)))
    }
}

@Suite struct ReportFilterTests {
    let clock = ManualClock()

    @Test func firstCycleReportsEverything() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [:])
        #expect(Set(filter.take([("a", 1), ("b", "x")], at: clock.now)) == ["a", "b"])
    }

    @Test func deadbandHoldsBackSmallChanges() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: ["v": 0.5])
        _ = filter.take([("v", 230.0), ("s", true)], at: clock.now)
        clock.advance(by: .seconds(1))
        #expect(filter.take([("v", 230.3), ("s", true)], at: clock.now) == [])
        // Measured against the last reported value, so a slow drift is reported once it adds up.
        #expect(filter.take([("v", 230.5), ("s", true)], at: clock.now) == ["v"])
        #expect(filter.take([("v", 230.5), ("s", false)], at: clock.now) == ["s"])
        #expect(filter.latestValues["v"] == 230.5)
    }

    @Test func zeroDeadbandReportsAnyChange() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [:])
        _ = filter.take([("n", 7)], at: clock.now)
        #expect(filter.take([("n", 7)], at: clock.now) == [])
        #expect(filter.take([("n", 8)], at: clock.now) == ["n"])
    }

    @Test func periodicFullReport() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: ["v": 10])
        _ = filter.take([("v", 1.0), ("w", 2.0)], at: clock.now)
        clock.advance(by: .seconds(59))
        #expect(filter.take([("v", 1.0)], at: clock.now) == [])
        clock.advance(by: .seconds(1))
        // Every value known, also one not read in this cycle.
        #expect(Set(filter.take([("v", 1.0)], at: clock.now)) == ["v", "w"])
        clock.advance(by: .seconds(1))
        #expect(filter.take([("v", 1.0)], at: clock.now) == [])
    }
}
