import Foundation
import GatewayCore

/// A `LogRateLimit` per key (kind of line), shared by every thread that logs through it (all
/// CoAP threads of a server, and libcoap's own output). What is held back goes out with the key's
/// next line, or through `drainSuppressed` once its window is over.
final class LogRateLimiter: Sendable {
    /// Warnings of one kind the server lets through per window.
    static let defaultPerWindow = 10
    static let defaultWindow = Duration.seconds(10)
    /// Distinct keys tracked; more fold into one shared key, so hostile input cannot grow the table.
    static let defaultMaxKeys = 256
    static let overflowKey = "(other repeated lines)"

    typealias Instant = ContinuousClock.Instant

    let perWindow: Int
    let window: Duration
    let maxKeys: Int
    private let limits = Locked<[String: LogRateLimit<Instant>]>([:])

    init(perWindow: Int = defaultPerWindow, window: Duration = defaultWindow, maxKeys: Int = defaultMaxKeys) {
        self.perWindow = perWindow
        self.window = window
        self.maxKeys = maxKeys
    }

    /// nil: hold this line back (it is counted). Otherwise log it, with the returned number of
    /// lines of the same key held back since the last one that went out.
    func admit(_ key: String, at now: Instant) -> Int? {
        limits.withLock { limits in
            let key = limits[key] != nil || limits.count < maxKeys ? key : Self.overflowKey
            return limits[key, default: LogRateLimit(perWindow: perWindow, window: window)].admit(at: now)
        }
    }

    /// Keys whose window is over with lines still held back, and how many; they are forgotten.
    func drainSuppressed(at now: Instant) -> [(key: String, count: Int)] {
        limits.withLock { limits in
            var drained: [(key: String, count: Int)] = []
            for (key, limit) in limits where limit.windowIsOver(at: now) {
                if limit.heldBack > 0 { drained.append((key, limit.heldBack)) }
                limits[key] = nil
            }
            return drained.sorted { $0.key < $1.key }
        }
    }
}
