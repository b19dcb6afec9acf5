/// A device that bootstraps again and again: Huawei's module driver reboots the module when no
/// Observe comes within 16 s of its registration, so a device that bootstraps fine but never gets
/// observed (a wrong server address written, a key the LwM2M server does not know) comes back
/// every minute or so. `threshold` bootstraps of one endpoint within `window` are a loop: logged
/// once when it starts (the caller's job) with the count, and listed until it stops.
public struct BootstrapLoopDetector<C: Clock>: Sendable where C.Duration == Duration {
    public static var defaultWindow: Duration { .seconds(600) }
    public static var defaultThreshold: Int { 3 }

    public let window: Duration
    public let threshold: Int
    private var starts: [String: [C.Instant]] = [:]
    private var looping: Set<String> = []

    public init(window: Duration = BootstrapLoopDetector.defaultWindow, threshold: Int = BootstrapLoopDetector.defaultThreshold) {
        self.window = window
        self.threshold = max(2, threshold)
    }

    public enum Verdict: Equatable, Sendable {
        case normal
        /// This bootstrap makes `count` within the window: a loop begins (say it once).
        case loopStarted(count: Int)
        /// Still looping (already said).
        case looping(count: Int)
    }

    /// A bootstrap of `endpoint` starts now.
    public mutating func bootstrapStarted(_ endpoint: String, now: C.Instant) -> Verdict {
        var recent = (starts[endpoint] ?? []).filter { $0.duration(to: now) < window }
        recent.append(now)
        starts[endpoint] = recent
        guard recent.count >= threshold else {
            looping.remove(endpoint)
            return .normal
        }
        return looping.insert(endpoint).inserted ? .loopStarted(count: recent.count) : .looping(count: recent.count)
    }

    /// The device registered and was observed: whatever it did before, it is not looping now.
    /// True when it was looping (its loop is over).
    @discardableResult
    public mutating func settled(_ endpoint: String) -> Bool {
        starts[endpoint] = nil
        return looping.remove(endpoint) != nil
    }

    /// Endpoints looping now, with their bootstrap count in the window.
    public func loops(now: C.Instant) -> [String: Int] {
        var result: [String: Int] = [:]
        for endpoint in looping {
            result[endpoint] = (starts[endpoint] ?? []).filter { $0.duration(to: now) < window }.count
        }
        return result
    }
}
