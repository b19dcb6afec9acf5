import Foundation
import GatewayCore

/// What one CoAP thread of the NB-IoT server knows, as a pure state machine: its sessions (by our
/// peer number), the handshakes in progress, the confirmable requests it awaits an answer to (with
/// their deadlines), the observations by node, and the block-wise bodies being put together. It
/// takes events (a session opened or ended, a ClientHello peeked at, a request or a response
/// received, a timer tick) with the time passed in, and returns `Action`s; the libcoap adapter
/// (`CoAPServerEngine`) turns callbacks into events and actions into libcoap calls.
///
/// The registration table is shared by every CoAP thread (a device may register on one and update
/// from a new address on another): the core holds it only for the table's own work.
///
/// `Session` is the adapter's handle for a session (libcoap's `coap_session_t *`; a number in
/// tests): the core keeps it by peer number and hands it back in actions, never looks into it.
struct CoAPServerCore<C: Clock, Session: Equatable> where C.Duration == Duration {
    typealias Instant = C.Instant
    typealias Table = RegistrationTable<Instant>
    typealias TokenKey = PendingRequests<Pending>.Key

    enum PendingKind: Equatable {
        /// `registeredAt` is cleared once the device has answered the GET.
        case observe(nodeId: String, registeredAt: Instant?)
        case downlink(nodeId: String, tag: UInt64)
        /// A one-shot GET (`Downlink.read`).
        case read(nodeId: String, tag: UInt64, path: String)
    }

    /// A request we sent. `deadline`: when it is given up if libcoap has not reported it (nil once
    /// an Observe was answered: the observation then lasts as long as the registration).
    struct Pending: Equatable {
        var kind: PendingKind
        var deadline: Instant?
    }

    /// The state libcoap reports for a session, asked by the same-address rules.
    enum SessionPhase: Equatable {
        case handshake, established, other
    }

    enum Action: Equatable {
        /// The answer to the request being handled.
        case reply(Table.Reply)
        /// Size1 on the answer (a 4.13): the largest body taken.
        case size1(Int)
        case emit(LwM2MServerEvent)
        case log(CoAPServerLogLine)
        /// Send the Observe GET for the node's data resource on this peer, now.
        case sendObserve(nodeId: String, path: String, peer: UInt64, registeredAt: Instant)
        /// Send this confirmable write (a GET when `read`) on this peer, now (if its session is established).
        case sendDownlink(Downlink, path: String, peer: UInt64)
        /// The device's session is on another CoAP thread: hand the write on to it.
        case forward(Downlink)
        /// Drop this session at once (its address began a new handshake); the core forgot it.
        case dropSession(Session, peer: UInt64)
    }

    struct Configuration: Sendable, Equatable {
        /// This core's number among the CoAP threads; the first one ends expired registrations.
        var shard: Int
        var maxPayloadBytes: Int
        var observeTimers: ConfirmableTimers
        var downlinkTimers: ConfirmableTimers

        init(shard: Int, maxPayloadBytes: Int, observeTimers: ConfirmableTimers, downlinkTimers: ConfirmableTimers) {
            self.shard = shard
            self.maxPayloadBytes = maxPayloadBytes
            self.observeTimers = observeTimers
            self.downlinkTimers = downlinkTimers
        }

        init(settings: LwM2MServerSettings, shard: Int) {
            self.init(shard: shard, maxPayloadBytes: settings.maxPayloadBytes,
                      observeTimers: ConfirmableTimers(ackTimeout: settings.observeAckTimeout,
                                                       randomFactor: settings.ackRandomFactor,
                                                       maxRetransmit: settings.maxRetransmit),
                      downlinkTimers: ConfirmableTimers(ackTimeout: settings.ackTimeout,
                                                        randomFactor: settings.ackRandomFactor,
                                                        maxRetransmit: settings.maxRetransmit))
        }
    }

    /// A request's deadline comes this long after the latest instant libcoap can give it up, so
    /// libcoap's own report (NACK) comes first whenever libcoap makes one.
    static var deadlineGrace: Duration { .seconds(1) }
    /// The handshakes in progress are looked at no more often than this (see `handshakeScanDue`).
    static var handshakeScanInterval: Duration { .milliseconds(50) }
    /// Block-wise transfers held at once per CoAP thread (each at most 2 KiB).
    static var maxBlockwiseTransfers: Int { 1024 }
    /// A transfer whose next block has not come for this long is dropped (a block retransmitted
    /// four times with NB-IoT timers takes about a minute).
    static var blockwiseIdleTimeout: Duration { .seconds(120) }

    let configuration: Configuration
    var counters = LwM2MServerCounters()

    /// Sessions by our peer number.
    var sessions: [UInt64: Session] = [:]
    var nextPeer: UInt64
    /// DTLS sessions by remote address (from the first ClientHello on), for the same-address rules.
    var dtlsPeerByAddress: [String: UInt64] = [:]
    /// Sessions that got a key and have not finished their handshake.
    var handshaking: Set<UInt64> = []
    var lastHandshakeScan: Instant?
    var pending = PendingRequests<Pending>()
    var deadlines = DeadlineHeap<Instant, TokenKey>()
    /// The token of each node's observation.
    var observeToken: [String: TokenKey] = [:]
    /// Observes that follow the reply of the request being handled, in the same loop turn.
    var afterReply: [Table.Action] = []
    /// Block-wise Register and Update bodies being put together.
    var blockwise: Block1Reassembly<Instant>
    var lastHousekeeping: Instant?

    init(configuration: Configuration) {
        self.configuration = configuration
        self.nextPeer = Self.firstPeer(shard: configuration.shard)
        self.blockwise = Block1Reassembly(maxBodyBytes: RegistrationRequest.maxObjectListBytes,
                                          maxTransfers: Self.maxBlockwiseTransfers, idleTimeout: Self.blockwiseIdleTimeout)
    }

    /// Peer numbers carry their shard in the top 16 bits.
    static func firstPeer(shard: Int) -> UInt64 { UInt64(shard) << 48 | 1 }
    static func shard(ofPeer peer: UInt64) -> Int { Int(peer >> 48) }

    // MARK: - Timers

    /// Work the loop must do before it sleeps: the Observes queued behind replies.
    var hasWorkAfterReply: Bool { !afterReply.isEmpty }

    /// The next instant `tick` has something to do (a request's deadline; on the first thread, a
    /// registration's end). The loop sleeps no longer than that.
    mutating func nextDeadline(registrations: Locked<Table>) -> Instant? {
        // Deadlines of requests that ended are dropped here, so the loop does not wake for them.
        while let earliest = deadlines.earliest, pending[earliest.key]?.deadline != earliest.deadline {
            deadlines.removeEarliest()
        }
        var next = deadlines.earliest?.deadline
        if configuration.shard == 0, let expiry = registrations.withLock({ $0.nextExpiry }) {
            next = next.map { min($0, expiry) } ?? expiry
        }
        return next
    }

    /// The timer: requests past their deadline are given up, registrations past their lifetime end
    /// (first thread only, for all threads), and once a second idle block-wise transfers go.
    mutating func tick(at now: Instant, registrations: Locked<Table>) -> [Action] {
        var actions: [Action] = []
        while let due = deadlines.popDue(at: now) {
            guard let entry = pending[due.key], entry.deadline == due.deadline else { continue }
            actions += requestFailed(due.key, result: .timedOut)
        }
        if configuration.shard == 0 {
            let expired = registrations.withLock { table -> [Table.Action] in
                guard let next = table.nextExpiry, next <= now else { return [] }
                return table.expire(at: now)
            }
            if !expired.isEmpty { actions += apply(expired, registrations: registrations) }
        }
        if lastHousekeeping.map({ $0.duration(to: now) >= .seconds(1) }) ?? true {
            lastHousekeeping = now
            if blockwise.count > 0 { blockwise.expire(at: now) }
        }
        return actions
    }

    // MARK: - Pending requests (shared by the other files of the core)

    mutating func track(_ key: TokenKey, _ kind: PendingKind, timers: ConfirmableTimers, sentAt now: Instant) {
        let deadline = now.advanced(by: timers.maxTransmitWait + Self.deadlineGrace)
        pending[key] = Pending(kind: kind, deadline: deadline)
        deadlines.insert(deadline, key)
    }

}

/// A line the adapter logs for the core. `rateLimited`: it can repeat once per bad handshake or
/// request, so it goes through the server's rate limiter.
struct CoAPServerLogLine: Sendable, Equatable {
    enum Level: Sendable, Equatable { case info, notice, warning }
    var level: Level
    var message: String
    var metadata: [String: String]
    var rateLimited: Bool

    static func repeated(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) -> Self {
        Self(level: level, message: message, metadata: metadata, rateLimited: true)
    }

    static func once(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) -> Self {
        Self(level: level, message: message, metadata: metadata, rateLimited: false)
    }
}
