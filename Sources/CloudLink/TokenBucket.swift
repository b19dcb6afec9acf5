import GatewayCore

/// Shapes publishes to a per-connection budget of messages/s and bytes/s. Pure: callers pass
/// the time; `reserve` either consumes the tokens or says how long to wait.
public struct TokenBucket<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    /// The platform's per-connection budget we default to (spec §1.8, issue 3).
    public static var defaultMessagesPerSecond: Int { 50 }
    public static var defaultBytesPerSecond: Int { 1_048_576 }
    /// The burst a full bucket allows, as time at the configured rate. Short, so no second
    /// ever sees much more than its budget, yet long enough that sleep overshoot is made up.
    public static var defaultBurst: Duration { .milliseconds(100) }

    public let messagesPerSecond: Double
    public let bytesPerSecond: Double
    public let messageCapacity: Double
    public let byteCapacity: Double
    private var messageTokens: Double
    private var byteTokens: Double
    private var last: Instant

    public init(messagesPerSecond: Int, bytesPerSecond: Int, burst: Duration = Self.defaultBurst, now: Instant) {
        self.messagesPerSecond = Double(max(1, messagesPerSecond))
        self.bytesPerSecond = Double(max(1, bytesPerSecond))
        let burstSeconds = burst.seconds
        messageCapacity = max(1, self.messagesPerSecond * burstSeconds)
        byteCapacity = max(1, self.bytesPerSecond * burstSeconds)
        messageTokens = messageCapacity
        byteTokens = byteCapacity
        last = now
    }

    /// Consumes one message of `bytes` and returns nil when the budget allows it now; otherwise
    /// consumes nothing and returns how long to wait. A message larger than the byte capacity
    /// goes when the bucket is full and leaves a debt, so it is never stuck.
    public mutating func reserve(bytes: Int, at now: Instant) -> Duration? {
        refill(at: now)
        let byteCost = Double(bytes)
        let byteNeed = min(byteCost, byteCapacity)
        if messageTokens >= 1, byteTokens >= byteNeed {
            messageTokens -= 1
            byteTokens -= byteCost
            return nil
        }
        let messageWait = max(0, (1 - messageTokens) / messagesPerSecond)
        let byteWait = max(0, (byteNeed - byteTokens) / bytesPerSecond)
        // Round up to a microsecond so the next reserve after the wait succeeds.
        let micros = (max(messageWait, byteWait) * 1_000_000).rounded(.up) + 1
        return .microseconds(Int64(micros))
    }

    private mutating func refill(at now: Instant) {
        let elapsed = last.duration(to: now).seconds
        guard elapsed > 0 else { return }
        last = now
        messageTokens = min(messageCapacity, messageTokens + elapsed * messagesPerSecond)
        byteTokens = min(byteCapacity, byteTokens + elapsed * bytesPerSecond)
    }
}
