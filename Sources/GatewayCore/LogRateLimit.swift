/// When a line that may repeat many times a second is written: at most `perWindow` in each
/// `window`, the window starting with the first line written after the last one ended. What is
/// held back is counted and the count goes out with the next line written, so a flood shows up
/// as a few lines that say how many were left out. Pure: callers pass the time.
///
/// Rules that log a change of state (first failure, recovery) are a different rule and live
/// beside their state (`OutageLog`, `FailureStreak`, the outbox's storage condition).
public struct LogRateLimit<Instant: InstantProtocol>: Sendable, Equatable where Instant.Duration == Duration {
    public let perWindow: Int
    public let window: Duration
    /// When the window in progress started; nil before the first line.
    public private(set) var windowStart: Instant?
    private var written = 0
    /// Lines held back since the last one written.
    public private(set) var heldBack = 0

    public init(perWindow: Int = 1, window: Duration) {
        self.perWindow = max(1, perWindow)
        self.window = window
    }

    /// Counts one line at `now`. Returns nil when it is held back, else how many were held
    /// back before it.
    public mutating func admit(at now: Instant) -> Int? {
        guard let windowStart, windowStart.duration(to: now) < window else {
            windowStart = now
            written = 1
            defer { heldBack = 0 }
            return heldBack
        }
        guard written < perWindow else {
            heldBack += 1
            return nil
        }
        written += 1
        return 0
    }

    /// Whether the window of the last line written is over at `now` (true before any line).
    public func windowIsOver(at now: Instant) -> Bool {
        guard let windowStart else { return true }
        return windowStart.duration(to: now) >= window
    }
}
