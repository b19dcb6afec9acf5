/// The site's fragments-per-second budget (`[upgrade] max_fragments_per_second`) as a token bucket
/// kept as one instant (GCRA): a bucket of `perSecond` tokens refilled evenly. A request over the
/// budget is not refused: `reserve` says when it may be served, and each reservation takes the
/// next free time, so answers go out later but none is dropped. Pure: callers pass the time.
public struct FragmentBudget<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let perSecond: Int
    /// Time one fragment costs.
    public let interval: Duration
    /// How far ahead of the steady rate a burst may go (a full bucket: one second's fragments).
    public let burst: Duration
    /// When the bucket would next be empty at the steady rate (theoretical arrival time).
    private var nextFree: Instant?

    public init(perSecond: Int) {
        self.perSecond = max(1, perSecond)
        interval = .seconds(1) / self.perSecond
        burst = interval * (self.perSecond - 1)
    }

    /// Takes one fragment's share. Returns `now` when it may be served now, else the later
    /// instant it is due.
    public mutating func reserve(now: Instant) -> Instant {
        let tat = nextFree.map { $0 > now ? $0 : now } ?? now
        let earliest = tat.advanced(by: .zero - burst)
        let due = earliest > now ? earliest : now
        nextFree = tat.advanced(by: interval)
        return due
    }
}
