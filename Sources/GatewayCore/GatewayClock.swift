import Foundation

/// The gateway's one time base. The daemon creates it once and hands it to every service where
/// time matters (NB-IoT registration and command windows, Modbus polling and health, the cloud
/// bridge), so a deadline made by one service means the same instant to another and a test
/// moves all of them with one `ManualClock`.
///
/// In memory, time is an `Instant` (a `Duration` since the clock was made); a `Date` exists only
/// where a time is stored or sent, and comes from `wallTime`.
public struct GatewayClock: Clock, Sendable {
    public typealias Instant = OffsetInstant

    private enum Source: Sendable {
        case system(start: ContinuousClock.Instant)
        case manual(ManualClock, epoch: Date)
    }

    private let source: Source

    private init(_ source: Source) { self.source = source }

    /// The real clock: monotonic, counting from now.
    public static func system() -> GatewayClock {
        GatewayClock(.system(start: ContinuousClock.now))
    }

    /// A clock that moves only with `manual.advance(by:)`; its wall time is `epoch` plus the
    /// time advanced.
    public static func manual(_ manual: ManualClock, epoch: Date = GatewayClock.testEpoch) -> GatewayClock {
        GatewayClock(.manual(manual, epoch: epoch))
    }

    /// 2026-01-01T00:00:00Z: the wall time a manual clock starts at unless told otherwise.
    public static let testEpoch = Date(timeIntervalSince1970: 1_767_225_600)

    public var now: Instant {
        switch source {
        case .system(let start): return Instant(offset: start.duration(to: ContinuousClock.now))
        case .manual(let manual, _): return manual.now
        }
    }

    public var minimumResolution: Duration {
        switch source {
        case .system: return ContinuousClock().minimumResolution
        case .manual(let manual, _): return manual.minimumResolution
        }
    }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        switch source {
        case .system(let start):
            try await ContinuousClock().sleep(until: start.advanced(by: deadline.offset), tolerance: tolerance)
        case .manual(let manual, _):
            try await manual.sleep(until: deadline, tolerance: tolerance)
        }
    }

    /// The wall-clock time now, for what is stored or sent. The system clock reads the system's
    /// wall clock each time (NTP may set it after the box boots), not the start plus the offset.
    public func wallTime() -> Date {
        switch source {
        case .system: return Date()
        case .manual(let manual, let epoch): return epoch.addingTimeInterval(manual.now.offset.seconds)
        }
    }

    /// The wall-clock time of an earlier (or later) instant of this clock.
    public func wallTime(at instant: Instant) -> Date {
        let now = self.now
        return wallTime().addingTimeInterval(-instant.duration(to: now).seconds)
    }
}
