import GatewayCore
import Testing
@testable import Modbus

@Suite struct ReportFilterTests {
    let clock = ManualClock()
    // Points by index: 0 = voltage, 1 = switch, 2 = count.

    @Test func firstCycleReportsEverything() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [0, 0, 0])
        #expect(filter.take([(0, 1), (1, "x")], at: clock.now) == [0, 1])
    }

    @Test func deadbandHoldsBackSmallChanges() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [0.5, 0, 0])
        _ = filter.take([(0, 230.0), (1, true)], at: clock.now)
        clock.advance(by: .seconds(1))
        #expect(filter.take([(0, 230.3), (1, true)], at: clock.now) == [])
        // Measured against the last reported value, so a slow drift is reported once it adds up.
        #expect(filter.take([(0, 230.5), (1, true)], at: clock.now) == [0])
        #expect(filter.take([(0, 230.5), (1, false)], at: clock.now) == [1])
        #expect(filter.latestValues[0] == 230.5)
        #expect(filter.latestValues[2] == nil)
    }

    @Test func zeroDeadbandReportsAnyChange() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [0, 0, 0])
        _ = filter.take([(2, 7)], at: clock.now)
        #expect(filter.take([(2, 7)], at: clock.now) == [])
        #expect(filter.take([(2, 8)], at: clock.now) == [2])
    }

    @Test func periodicFullReport() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [10, 10, 0])
        _ = filter.take([(0, 1.0), (1, 2.0)], at: clock.now)
        clock.advance(by: .seconds(59))
        #expect(filter.take([(0, 1.0)], at: clock.now) == [])
        clock.advance(by: .seconds(1))
        // Every value known, also one not read in this batch; never one not read at all.
        #expect(filter.take([], at: clock.now) == [0, 1])
        clock.advance(by: .seconds(1))
        #expect(filter.take([(0, 1.0)], at: clock.now) == [])
    }

    @Test func pointsOutsideTheDeviceAreIgnored() {
        var filter = ReportFilter<ManualClock.Instant>(fullReportInterval: .seconds(60), deadbands: [0])
        #expect(filter.take([(5, 1), (0, 2)], at: clock.now) == [0])
    }
}
