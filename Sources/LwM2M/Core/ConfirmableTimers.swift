/// CoAP's timers for a confirmable request (RFC 7252 §4.2, §4.8), as libcoap applies them: the
/// first wait is drawn from [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR], each retransmission
/// doubles it, and after MAX_RETRANSMIT retransmissions the request is given up one more doubled
/// wait later. libcoap retransmits; the core keeps the latest instant it can give up as a deadline.
struct ConfirmableTimers: Sendable, Equatable {
    var ackTimeout: Duration
    var randomFactor: Double
    var maxRetransmit: Int

    /// Retransmissions beyond this are not modelled (libcoap takes a UInt16; 2^20 waits are years).
    static let retransmitCeiling = 20

    init(ackTimeout seconds: Double, randomFactor: Double, maxRetransmit: Int) {
        self.ackTimeout = Self.milliseconds(max(0, seconds))
        self.randomFactor = max(1, randomFactor)
        self.maxRetransmit = min(max(0, maxRetransmit), Self.retransmitCeiling)
    }

    /// The longest first wait libcoap may draw: ACK_TIMEOUT × ACK_RANDOM_FACTOR.
    var maxInitialTimeout: Duration {
        Self.milliseconds(Double(ackTimeout.components.seconds) * randomFactor
                          + Double(ackTimeout.components.attoseconds) / 1e18 * randomFactor)
    }

    /// When each retransmission leaves, counted from the first transmission, for a first wait `initial`.
    func retransmissions(initial: Duration) -> [Duration] {
        guard maxRetransmit > 0 else { return [] }
        return (1...maxRetransmit).map { initial * ((1 << $0) - 1) }
    }

    /// When the request is given up (libcoap's NACK "too many retries"), for a first wait `initial`.
    func giveUp(initial: Duration) -> Duration {
        initial * ((1 << (maxRetransmit + 1)) - 1)
    }

    /// The latest a request can be given up: RFC 7252's MAX_TRANSMIT_WAIT.
    var maxTransmitWait: Duration { giveUp(initial: maxInitialTimeout) }

    static func milliseconds(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
