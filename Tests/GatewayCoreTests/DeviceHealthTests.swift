import Testing
@testable import GatewayCore

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
