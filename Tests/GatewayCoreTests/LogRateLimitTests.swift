import Testing
@testable import GatewayCore

/// At most N lines per window, with the count of what was held back on the next line.
@Suite struct LogRateLimitTests {
    /// The outbox's "outbox full" rule: the first at once, then at most one a minute.
    @Test func firstAtOnceThenOnePerIntervalWithTheCountHeldBack() {
        let clock = ManualClock()
        var throttle = LogRateLimit<ManualClock.Instant>(window: .seconds(60))
        #expect(throttle.admit(at: clock.now) == 0)
        for _ in 1...59 {
            clock.advance(by: .seconds(1))
            #expect(throttle.admit(at: clock.now) == nil)
        }
        #expect(throttle.heldBack == 59)
        clock.advance(by: .seconds(1))
        #expect(throttle.admit(at: clock.now) == 59)
        clock.advance(by: .seconds(140))
        #expect(throttle.admit(at: clock.now) == 0)
    }

    /// The CoAP server's rule for one kind of line: ten per ten seconds.
    @Test func nPerWindowThenTheHeldBackCountGoesWithTheNextWindowsFirstLine() {
        let clock = ManualClock()
        var limit = LogRateLimit<ManualClock.Instant>(perWindow: 10, window: .seconds(10))
        #expect(limit.windowIsOver(at: clock.now))
        let admitted = (0..<1000).compactMap { _ in limit.admit(at: clock.now) }
        #expect(admitted == Array(repeating: 0, count: 10))
        #expect(limit.heldBack == 990)
        clock.advance(by: .milliseconds(9999))
        #expect(!limit.windowIsOver(at: clock.now))
        #expect(limit.admit(at: clock.now) == nil)
        clock.advance(by: .milliseconds(1))
        #expect(limit.windowIsOver(at: clock.now))
        // The window starts again with this line, which carries the 991 held back.
        #expect(limit.admit(at: clock.now) == 991)
        #expect(limit.windowStart == clock.now && limit.heldBack == 0)
        #expect((0..<9).allSatisfy { _ in limit.admit(at: clock.now) == 0 })
        #expect(limit.admit(at: clock.now) == nil)
    }

    @Test func noneInAWindowStillLetsTheFirstLineThrough() {
        var limit = LogRateLimit<ManualClock.Instant>(perWindow: 0, window: .seconds(10))
        #expect(limit.perWindow == 1)
        #expect(limit.admit(at: ManualClock.Instant(offset: .zero)) == 0)
        #expect(limit.admit(at: ManualClock.Instant(offset: .seconds(1))) == nil)
    }
}
