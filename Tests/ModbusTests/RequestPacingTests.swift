import GatewayCore
import Testing
@testable import Modbus

/// The silence a bus keeps between two requests.
@Suite struct RequestPacingTests {
    static func at(_ milliseconds: Int64) -> OffsetInstant { OffsetInstant(offset: .milliseconds(milliseconds)) }

    @Test func theDelayCountsFromTheEndOfTheLastRequest() {
        var pacing = RequestPacing<OffsetInstant>(delay: .milliseconds(150))
        #expect(pacing.wait(at: Self.at(0)) == .zero)   // nothing sent yet
        pacing.requestEnded(at: Self.at(10))
        #expect(pacing.wait(at: Self.at(10)) == .milliseconds(150))
        #expect(pacing.wait(at: Self.at(100)) == .milliseconds(60))
        #expect(pacing.wait(at: Self.at(159)) == .milliseconds(1))
        #expect(pacing.wait(at: Self.at(160)) == .zero)
        #expect(pacing.wait(at: Self.at(900)) == .zero)
        pacing.requestEnded(at: Self.at(1000))
        #expect(pacing.wait(at: Self.at(1001)) == .milliseconds(149))
    }

    @Test func noDelayNeverWaits() {
        var pacing = RequestPacing<OffsetInstant>(delay: .zero)
        pacing.requestEnded(at: Self.at(10))
        #expect(pacing.lastRequestEnd == nil)
        #expect(pacing.wait(at: Self.at(10)) == .zero)
    }
}
