import GatewayCore
import Testing
@testable import Modbus

/// Which device and group a bus polls next, and what a cycle's outcome does to that, driven to
/// the millisecond on constructed instants.
@Suite struct PollScheduleTests {
    typealias Schedule = PollSchedule<OffsetInstant>
    typealias Due = Schedule.Due

    static func at(_ milliseconds: Int64) -> OffsetInstant { OffsetInstant(offset: .milliseconds(milliseconds)) }
    let policy = DeviceHealth<OffsetInstant>.Policy(failuresBeforeOffline: 2, initialBackoff: .seconds(5), maxBackoff: .seconds(20))

    func schedule(_ groups: [[Duration]]) -> Schedule {
        Schedule(groups: groups.map { $0.map { (interval: $0, hasReads: true) } }, health: policy, now: Self.at(0))
    }

    /// Runs a cycle that the slave answered, from `start` to `end` (milliseconds).
    @discardableResult
    func answered(_ s: inout Schedule, _ due: Due?, from start: Int64, to end: Int64) -> Schedule.Outcome? {
        guard let due else { return nil }
        return s.cycleEnded(device: due.device, group: due.group, started: Self.at(start), ended: Self.at(end),
                            answered: true, silent: false, silence: .zero)
    }

    @Test func theCycleDueFirstGoesNextAndATieGoesToTheFirstDeviceThenItsFirstGroup() {
        var s = schedule([[.seconds(1), .milliseconds(250)], [.milliseconds(100)]])
        #expect(s.next() == Due(device: 0, group: 0, at: Self.at(0)))
        answered(&s, s.next(), from: 0, to: 10)
        #expect(s.next() == Due(device: 0, group: 1, at: Self.at(0)))
        answered(&s, s.next(), from: 10, to: 20)
        #expect(s.next() == Due(device: 1, group: 0, at: Self.at(0)))
        answered(&s, s.next(), from: 20, to: 30)
        // Now by due time: device 1 at 120 ms, device 0's fast group at 260 ms, its slow one at 1 s.
        #expect(s.next() == Due(device: 1, group: 0, at: Self.at(120)))
        answered(&s, s.next(), from: 120, to: 125)
        #expect(s.next() == Due(device: 1, group: 0, at: Self.at(220)))
        answered(&s, s.next(), from: 220, to: 225)
        #expect(s.next() == Due(device: 0, group: 1, at: Self.at(260)))
        answered(&s, s.next(), from: 260, to: 270)
        #expect(s.next() == Due(device: 1, group: 0, at: Self.at(320)))
        #expect(s.nextDue == [[Self.at(1000), Self.at(510)], [Self.at(320)]])
    }

    @Test func theIntervalCountsFromTheStartOfTheCycleNotItsEnd() {
        var s = schedule([[.milliseconds(100)]])
        answered(&s, s.next(), from: 0, to: 30)
        #expect(s.next()?.at == Self.at(100))
        // A cycle that starts late (the bus was busy) is due one interval after it started.
        answered(&s, s.next(), from: 107, to: 140)
        #expect(s.next()?.at == Self.at(207))
    }

    @Test func aCycleLongerThanItsIntervalIsDueAgainAtOnceAndSaidOncePerDevice() {
        var s = schedule([[.milliseconds(100), .milliseconds(100)]])
        let first = answered(&s, Due(device: 0, group: 0, at: Self.at(0)), from: 0, to: 150)
        #expect(first == Schedule.Outcome(health: .reportOnline, overran: true))
        #expect(s.nextDue[0][0] == Self.at(150))
        // The device's other group overruns too: already said.
        let second = answered(&s, Due(device: 0, group: 1, at: Self.at(0)), from: 150, to: 300)
        #expect(second == Schedule.Outcome(health: nil, overran: false))
        #expect(s.nextDue[0][1] == Self.at(300))
    }

    @Test func timeWaitingForASilentSlaveIsNotOverload() {
        var s = schedule([[.milliseconds(100)], [.milliseconds(100)], [.zero]])
        // 150 ms, 60 of them waiting for an answer that did not come: 90 ms of work.
        let waited = s.cycleEnded(device: 0, group: 0, started: Self.at(0), ended: Self.at(150),
                                  answered: true, silent: true, silence: .milliseconds(60))
        #expect(waited.overran == false)
        // Exactly the interval is not longer than it; one millisecond more is.
        #expect(answered(&s, Due(device: 1, group: 0, at: Self.at(0)), from: 0, to: 100)?.overran == false)
        #expect(answered(&s, Due(device: 1, group: 0, at: Self.at(0)), from: 100, to: 201)?.overran == true)
        // No interval (poll as fast as the bus goes): never an overrun.
        #expect(answered(&s, Due(device: 2, group: 0, at: Self.at(0)), from: 0, to: 5000)?.overran == false)
        #expect(s.nextDue[2][0] == Self.at(5000))
    }

    @Test func groupsWithoutReadsAreNeverDue() {
        let none = Schedule(groups: [[(interval: .seconds(1), hasReads: false)]], health: policy, now: Self.at(0))
        #expect(none.next() == nil)
        let some = Schedule(groups: [[(interval: .seconds(1), hasReads: false), (interval: .seconds(5), hasReads: true)]],
                            health: policy, now: Self.at(0))
        #expect(some.next() == Due(device: 0, group: 1, at: Self.at(0)))
    }

    @Test func aSilentSlaveGoesOfflineAndIsPolledOnlyAtItsRetryTimesWhileItsNeighbourKeepsItsInterval() {
        var s = schedule([[.seconds(1)], [.milliseconds(500)]])
        func silent(_ d: Int, from start: Int64, to end: Int64) -> Schedule.Outcome {
            s.cycleEnded(device: d, group: 0, started: Self.at(start), ended: Self.at(end),
                         answered: false, silent: true, silence: .milliseconds(end - start))
        }
        // Device 0 times out (1 s): not offline yet, so still due by its interval.
        #expect(silent(0, from: 0, to: 1000) == Schedule.Outcome(health: nil, overran: false))
        #expect(s.next() == Due(device: 1, group: 0, at: Self.at(0)))
        answered(&s, s.next(), from: 1000, to: 1010)
        #expect(s.next() == Due(device: 0, group: 0, at: Self.at(1000)))
        // The second timeout in a row: offline, retried 5 s after that cycle ended.
        #expect(silent(0, from: 1010, to: 2010) == Schedule.Outcome(health: .reportOffline, overran: false))
        #expect(s.health[0].state == .offline)
        #expect(s.health[0].retryAt == Self.at(7010))
        // Its interval passes at 2.01 s, but it waits for its retry time; the neighbour keeps its own.
        #expect(s.nextDue[0][0] == Self.at(2010))
        var neighbour: Int64 = 1500
        while neighbour < 7010 {
            #expect(s.next() == Due(device: 1, group: 0, at: Self.at(neighbour)))
            answered(&s, s.next(), from: neighbour, to: neighbour + 1)
            neighbour += 500
        }
        #expect(s.next() == Due(device: 0, group: 0, at: Self.at(7010)))
        // The probe fails: the wait doubles (10 s), counted from the probe's end.
        #expect(silent(0, from: 7010, to: 8010) == Schedule.Outcome(health: nil, overran: false))
        #expect(s.health[0].retryAt == Self.at(18010))
        // The next probe answers: online, and back to its interval from that cycle's start.
        #expect(answered(&s, Due(device: 0, group: 0, at: Self.at(18010)), from: 18010, to: 18020)
                == Schedule.Outcome(health: .reportOnline, overran: false))
        #expect(s.health[0].retryAt == nil)
        #expect(s.nextDue[0][0] == Self.at(19010))
    }

    @Test func anExceptionIsAnAnswerSoTheCycleDidNotFail() {
        var s = schedule([[.seconds(1)]])
        for _ in 0..<5 {
            // An exception on the first read, then a timeout on the next: the slave answered.
            let outcome = s.cycleEnded(device: 0, group: 0, started: Self.at(0), ended: Self.at(10),
                                       answered: true, silent: true, silence: .milliseconds(5))
            #expect(outcome.health != .reportOffline)
        }
        #expect(s.health[0].state == .online)
        #expect(s.health[0].consecutiveFailures == 0)
    }

    @Test func aWriteMakesEveryGroupOfItsDeviceDueAtOnce() {
        var s = schedule([[.seconds(10), .seconds(60)], [.seconds(10)]])
        answered(&s, s.next(), from: 0, to: 10)
        answered(&s, s.next(), from: 10, to: 20)
        answered(&s, s.next(), from: 20, to: 30)
        #expect(s.next() == Due(device: 0, group: 0, at: Self.at(10000)))
        s.readBack(device: 0, at: Self.at(300))
        #expect(s.nextDue == [[Self.at(300), Self.at(300)], [Self.at(10020)]])
        #expect(s.next() == Due(device: 0, group: 0, at: Self.at(300)))
    }
}
