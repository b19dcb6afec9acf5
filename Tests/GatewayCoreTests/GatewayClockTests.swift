import Foundation
import GatewayCore
import Testing

@Suite struct GatewayClockTests {
    @Test func manualClockMovesOnlyWhenAdvanced() async throws {
        let manual = ManualClock()
        let clock = GatewayClock.manual(manual)
        let start = clock.now
        #expect(clock.now == start)
        manual.advance(by: .seconds(20))
        #expect(start.duration(to: clock.now) == .seconds(20))
        #expect(clock.wallTime() == GatewayClock.testEpoch.addingTimeInterval(20))
        #expect(clock.wallTime(at: start) == GatewayClock.testEpoch)
    }

    @Test func sleeperWakesWhenTheManualClockPassesItsDeadline() async throws {
        let manual = ManualClock()
        let clock = GatewayClock.manual(manual)
        let deadline = clock.now.advanced(by: .seconds(4))
        let sleeper = Task { try await clock.sleep(until: deadline); return clock.now }
        while manual.sleeperCount == 0 { await Task.yield() }
        manual.advance(by: .seconds(3))
        #expect(manual.sleeperCount == 1)
        manual.advance(by: .seconds(1))
        let woke = try await sleeper.value
        #expect(woke == deadline)
    }

    @Test func systemClockIsMonotonicAndCountsFromItsStart() async throws {
        let clock = GatewayClock.system()
        let first = clock.now
        #expect(first.offset >= .zero && first.offset < .seconds(1))
        try await clock.sleep(until: first.advanced(by: .milliseconds(5)))
        #expect(clock.now >= first.advanced(by: .milliseconds(5)))
        let wall = clock.wallTime()
        #expect(abs(wall.timeIntervalSinceNow) < 1)
    }
}
