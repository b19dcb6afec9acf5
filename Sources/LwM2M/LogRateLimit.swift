import Foundation
import GatewayCore

/// At most `perWindow` lines per key in each `window`, shared by every thread that logs through it
/// (all CoAP threads of a server, and libcoap's own output). What is held back is counted: the
/// count goes out with the key's next line, or through `drainSuppressed` once its window is over,
/// so a flood shows up as a few lines that say how many were left out.
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
    private let state = Locked<[String: Entry]>([:])

    private struct Entry {
        var windowStart: Instant
        var used: Int
        var suppressed: Int
    }

    init(perWindow: Int = defaultPerWindow, window: Duration = defaultWindow, maxKeys: Int = defaultMaxKeys) {
        self.perWindow = perWindow
        self.window = window
        self.maxKeys = maxKeys
    }

    /// nil: hold this line back (it is counted). Otherwise log it, with the returned number of
    /// lines of the same key held back since the last one that went out.
    func admit(_ key: String, at now: Instant) -> Int? {
        state.withLock { entries in
            let key = entries[key] != nil || entries.count < maxKeys ? key : Self.overflowKey
            guard var entry = entries[key], entry.windowStart.duration(to: now) < window else {
                let carried = entries[key]?.suppressed ?? 0
                entries[key] = Entry(windowStart: now, used: 1, suppressed: 0)
                return carried
            }
            entry.used += 1
            defer { entries[key] = entry }
            guard entry.used <= perWindow else {
                entry.suppressed += 1
                return nil
            }
            return 0
        }
    }

    /// Keys whose window is over with lines still held back, and how many; they are forgotten.
    func drainSuppressed(at now: Instant) -> [(key: String, count: Int)] {
        state.withLock { entries in
            var drained: [(key: String, count: Int)] = []
            for (key, entry) in entries where entry.windowStart.duration(to: now) >= window {
                if entry.suppressed > 0 { drained.append((key, entry.suppressed)) }
                entries[key] = nil
            }
            return drained.sorted { $0.key < $1.key }
        }
    }
}
