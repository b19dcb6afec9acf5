import Foundation

/// At most `perWindow` log lines per `window`; the counters carry the full numbers.
struct LogRateLimit {
    let perWindow: Int
    let window: Duration
    private var windowStart: ContinuousClock.Instant?
    private var used = 0

    init(perWindow: Int, window: Duration) {
        self.perWindow = perWindow
        self.window = window
    }

    mutating func allow(at now: ContinuousClock.Instant) -> Bool {
        if let start = windowStart, start.duration(to: now) < window {
            used += 1
            return used <= perWindow
        }
        windowStart = now
        used = 1
        return true
    }
}
