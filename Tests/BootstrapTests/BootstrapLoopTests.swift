import Bootstrap
import GatewayCore
import Testing

struct BootstrapLoopTests {
    typealias Detector = BootstrapLoopDetector<ManualClock>
    static func at(_ seconds: Double) -> OffsetInstant { OffsetInstant(offset: .seconds(1000 + seconds)) }

    @Test func threeBootstrapsInTenMinutesAreALoopSaidOnce() {
        var detector = Detector()
        #expect(detector.bootstrapStarted("a", now: Self.at(0)) == .normal)
        #expect(detector.bootstrapStarted("a", now: Self.at(60)) == .normal)
        #expect(detector.bootstrapStarted("b", now: Self.at(61)) == .normal)
        #expect(detector.bootstrapStarted("a", now: Self.at(120)) == .loopStarted(count: 3))
        #expect(detector.bootstrapStarted("a", now: Self.at(180)) == .looping(count: 4))
        #expect(detector.loops(now: Self.at(181)) == ["a": 4])
        // Registered and observed: settled (its loop is over); a device that was not looping says so.
        let aWasLooping = detector.settled("a")
        let bWasLooping = detector.settled("b")
        #expect(aWasLooping && !bWasLooping)
        #expect(detector.loops(now: Self.at(182)).isEmpty)
        #expect(detector.bootstrapStarted("a", now: Self.at(200)) == .normal)
    }

    @Test func bootstrapsFurtherApartThanTheWindowAreNoLoop() {
        var detector = Detector()
        for minute in stride(from: 0.0, to: 60, by: 6) {
            #expect(detector.bootstrapStarted("a", now: Self.at(minute * 60)) == .normal, "at \(minute) min")
        }
    }
}
