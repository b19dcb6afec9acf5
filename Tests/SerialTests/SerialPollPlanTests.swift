import GatewayCore
import Testing
@testable import Serial

/// The poll plan on a test clock: rates kept, devices spread, a dead device retried with
/// backoff without holding up the others, a lost port taking every device OFFLINE.
@Suite struct SerialPollPlanTests {
    typealias Plan = SerialPollPlan<ManualClock.Instant>
    let start = ManualClock().now
    let policy = DeviceHealth<ManualClock.Instant>.Policy(failuresBeforeOffline: 2, initialBackoff: .seconds(10), maxBackoff: .seconds(40))

    @Test func devicesAreSpreadOverTheFirstIntervalAndKeepTheirRate() throws {
        var plan = Plan(devices: [(0, .seconds(4)), (1, .seconds(4))], start: start, policy: policy)
        let first = try #require(plan.next())
        #expect(first.device == 0 && first.at == start)
        plan.started(device: 0, at: start)
        let second = try #require(plan.next())
        #expect(second.device == 1 && second.at == start.advanced(by: .seconds(2)))
        // A poll that went out 300 ms late does not move the next one: the rate is kept.
        plan.started(device: 1, at: start.advanced(by: .milliseconds(2300)))
        #expect(plan.next()?.at == start.advanced(by: .seconds(4)))
        plan.started(device: 0, at: start.advanced(by: .seconds(4)))
        #expect(plan.next()?.device == 1)
        #expect(plan.next()?.at == start.advanced(by: .seconds(6)))
    }

    @Test func aLineThatFellBehindDoesNotBunchPollsUp() throws {
        var plan = Plan(devices: [(0, .seconds(1))], start: start, policy: policy)
        // Ten intervals late (a long command ran): the next poll is one interval from now.
        let late = start.advanced(by: .seconds(10))
        plan.started(device: 0, at: late)
        #expect(plan.next()?.at == late.advanced(by: .seconds(1)))
    }

    @Test func aSilentDeviceGoesOfflineAndIsRetriedWithBackoffWhileOthersKeepTheirIntervals() throws {
        var plan = Plan(devices: [(0, .seconds(1)), (1, .seconds(1))], start: start, policy: policy)
        var now = start
        #expect(plan.failed(device: 0, at: now) == nil)
        now = now.advanced(by: .seconds(1))
        #expect(plan.failed(device: 0, at: now) == .reportOffline)
        #expect(plan.state(of: 0) == .offline)
        plan.started(device: 0, at: now)
        // Device 1 keeps its 1 s rhythm; device 0 waits for its retry, 10 s on.
        let next = try #require(plan.next())
        #expect(next.device == 1)
        let retry = plan.entries.first { $0.device == 0 }?.health.retryAt
        #expect(retry == now.advanced(by: .seconds(10)))
        #expect(plan.answered(device: 0, at: now.advanced(by: .seconds(10))) == .reportOnline)
    }

    @Test func aLostPortTakesEveryDeviceOfflineOnce() {
        var plan = Plan(devices: [(0, .seconds(1)), (2, .seconds(5))], start: start, policy: policy)
        #expect(plan.answered(device: 0, at: start) == .reportOnline)
        let actions = plan.portLost(at: start)
        #expect(actions.map(\.device) == [0, 2])
        #expect(plan.portLost(at: start).isEmpty)
        #expect(plan.state(of: 2) == .offline)
    }
}
