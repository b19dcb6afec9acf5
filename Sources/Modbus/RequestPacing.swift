/// The silence a bus keeps between two requests (`inter_request_delay_ms`): some slaves, and
/// RS-485 converters turning the line around, need a pause after an answer before the next
/// request. Counted from the end of the last request, also within one cycle and between a read
/// and a write. Pure, with time passed in.
struct RequestPacing<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    let delay: Duration
    /// When the last request ended; kept only when there is a delay to keep.
    private(set) var lastRequestEnd: Instant?

    init(delay: Duration) { self.delay = delay }

    /// How long a request that is ready at `now` waits first (zero: send it now).
    func wait(at now: Instant) -> Duration {
        guard delay > .zero, let last = lastRequestEnd else { return .zero }
        let wait = now.duration(to: last.advanced(by: delay))
        return wait > .zero ? wait : .zero
    }

    /// A request (answered or not) ended at `now`.
    mutating func requestEnded(at now: Instant) {
        if delay > .zero { lastRequestEnd = now }
    }
}
