import Foundation

/// An `NSLock` with a typed `withLock` (the stdlib `Mutex` needs macOS 15 on Darwin).
final class NSLockLike: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// A value behind a lock, shared between the CoAP thread and async code.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

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
