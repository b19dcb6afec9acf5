import Testing
@testable import Modbus

/// Which failures of a polled read get a log line: a run's start, a change, its end.
@Suite struct FailureStreakTests {
    @Test func aRunIsReportedWhenItStartsChangesAndEnds() {
        var streak = FailureStreak<ModbusError>()
        #expect(streak.succeeded() == nil)
        #expect(streak.failed(.exception(code: 2)) == .started(.exception(code: 2)))
        for _ in 0..<54 { #expect(streak.failed(.exception(code: 2)) == nil) }
        #expect(streak.count == 55)
        #expect(streak.failed(.timeout) == .changed(to: .timeout, previous: .exception(code: 2), count: 55))
        #expect(streak.failed(.timeout) == nil)
        #expect(streak.succeeded() == .recovered(last: .timeout, count: 2))
        #expect(streak.current == nil && streak.count == 0)
        #expect(streak.succeeded() == nil)
        #expect(streak.failed(.timeout) == .started(.timeout))
    }

    @Test func durationsReadAsSeconds() {
        #expect(Duration.milliseconds(500).logText == "0.5 s")
        #expect(Duration.milliseconds(10).logText == "0.01 s")
        #expect(Duration.milliseconds(1234).logText == "1.234 s")
        #expect(Duration.seconds(2).logText == "2 s")
        #expect(failedPolls(1) == "1 failed poll" && failedPolls(55) == "55 failed polls")
    }
}
