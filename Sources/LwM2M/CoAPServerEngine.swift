import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The libcoap side of the server: one libcoap context on one CoAP thread. It turns libcoap's
/// callbacks into events for its `CoAPServerCore` (sessions, handshakes, pending requests,
/// observations: the state) and the core's actions into libcoap calls, events and log lines.
/// Every method runs on that thread (libcoap 4.3.1 is not thread-safe); other threads only reach
/// it through `enqueue(_:)`, which wakes the loop. With several CoAP threads each has an engine of
/// its own (a shard) with its own sockets on every listener; the registration table is shared, so
/// a device may register on one shard and update from a new address on another.
///
/// Its rooms: +Listeners (binding, SO_REUSEPORT), +DatagramBatches (epoll batches, oversized
/// datagrams, malloc_trim), +Sessions (session events, PSK keys, same-address reconnect),
/// +Registration and +Requests (libcoap requests and responses), +Actions (the core's actions).
final class CoAPServerEngine {
    typealias Core = CoAPServerCore<GatewayClock, OpaquePointer>
    typealias Instant = OffsetInstant
    typealias Table = RegistrationTable<Instant>

    enum Command: Sendable {
        /// `forwarded`: another shard handed it on (the device moved); it is not handed on again.
        case downlink(Downlink, forwarded: Bool)
    }

    let settings: LwM2MServerSettings
    let directory: NBIoTDeviceDirectory
    let logger: Logger
    let clock: GatewayClock
    let emit: @Sendable (LwM2MServerEvent) -> Void
    let sharedCounters: Locked<LwM2MServerCounters>
    /// The state of this thread's sessions and requests; its counters are this thread's.
    var core: Core
    /// The actions of one response, in a buffer kept between notifications.
    var responseActions: [Core.Action] = []

    var context: OpaquePointer?
    /// Shared by every shard; held only for the table's own (pure) work.
    let registrations: Locked<Table>
    /// This engine's number among the CoAP threads; it is the top bits of its peer numbers.
    let shard: Int
    let router: CoAPShardRouter
    /// Listener sockets (found under /proc/self/fd; 4.3.1 does not expose them): whether each is DTLS.
    var listenerIsDTLS: [Int32: Bool] = [:]
    var grantedReceiveBuffers: [Int] = []

    let commands = Locked<[Command]>([])
    let wakePipe = WakePipe()
    let stopRequested = Locked(false)

    /// Repeated warnings (bad identities, failed handshakes, refused requests) and libcoap's own
    /// lines, limited across every CoAP thread of the server (on its own monotonic clock).
    let logLimiter: LogRateLimiter
    let logSink: CoAPLog.Sink
    var lastLogDrain: ContinuousClock.Instant?
    /// Message IDs of the 4.13 answers to NON requests too long to read.
    var nextNonMessageID = UInt16.random(in: 0...UInt16.max)
    /// libcoap reads 1,472 bytes per datagram (more over DTLS: its record overhead, at most 37
    /// bytes with GnuTLS, comes off the MTU); parse every request it reads whole.
    static let sessionMTU = OversizedDatagram.libcoapReadBytes + 37

    let batch = EpollBatch(maxReadyEvents: CoAPServerEngine.maxReadyEvents, maxDatagramsPerEvent: CoAPServerEngine.maxDatagramsPerBatch)
    let queuePeek = DatagramQueuePeek()
    /// Handshakes leave freed buffers behind that glibc keeps; they are given back once a burst is over.
    var trimmedAfterBurst = true

    let psk = PSKHandout()
    /// Where a traced device's messages go (`edgegw trace nbiot`; CoAPServerEngine+Trace.swift).
    let trace: TraceTap?

    init(settings: LwM2MServerSettings, directory: NBIoTDeviceDirectory, logger: Logger, clock: GatewayClock, shard: Int,
         registrations: Locked<Table>, router: CoAPShardRouter,
         counters: Locked<LwM2MServerCounters>, logLimiter: LogRateLimiter, trace: TraceTap? = nil,
         emit: @escaping @Sendable (LwM2MServerEvent) -> Void) {
        self.settings = settings
        self.trace = trace
        self.logLimiter = logLimiter
        self.logSink = CoAPLog.Sink(logger: logger, limiter: logLimiter, level: settings.libcoapLogLevel)
        self.directory = directory
        self.logger = logger
        self.clock = clock
        self.sharedCounters = counters
        self.emit = emit
        self.shard = shard
        self.registrations = registrations
        self.router = router
        self.core = Core(configuration: .init(settings: settings, shard: shard))
    }

    // MARK: - Threads other than the CoAP thread

    func enqueue(_ command: Command) {
        commands.withLock { $0.append(command) }
        wakePipe.wake()
    }

    func requestStop() {
        stopRequested.withLock { $0 = true }
        wakePipe.wake()
    }

    // MARK: - The loop (CoAP thread)

    /// Runs until `requestStop()`; then frees the context on this thread.
    func runLoop() {
        guard let context else { return }
        let coapFD = coap_context_get_coap_fd(context)
        var fds = [pollfd(fd: coapFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)]
        while !stopRequested.withLock({ $0 }) {
            drainCommands()
            processDatagrams(context: context, epollFD: coapFD)
            checkHandshakes()
            perform(core.tick(at: clock.now, registrations: registrations))
            flushAfterReply()
            trimMemoryAfterBurst()
            drainSuppressedLogLines()
            publishCounters()
            fds[0].revents = 0
            fds[1].revents = 0
            if poll(&fds, 2, pollTimeoutMilliseconds()) > 0, fds[1].revents != 0 { wakePipe.drain() }
        }
        coap_free_context(context)
        self.context = nil
        publishCounters()
        CoAPLog.unbind()
    }

    static func ceilingMilliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// At most a second: a datagram may still wait behind the one libcoap read; sooner when the
    /// core has a deadline (a registration's end, a request's), at once when Observes are queued.
    func pollTimeoutMilliseconds() -> Int32 {
        if core.hasWorkAfterReply { return 0 }
        var timeout: Int32 = 1000
        if let next = core.nextDeadline(registrations: registrations) {
            timeout = min(timeout, Self.ceilingMilliseconds(clock.now.duration(to: next)))
        }
        return timeout
    }

    /// Once a second the first thread reports the lines the limiter held back in windows that are over.
    func drainSuppressedLogLines() {
        guard shard == 0 else { return }
        let now = ContinuousClock.now
        if let last = lastLogDrain, last.duration(to: now) < .seconds(1) { return }
        lastLogDrain = now
        for (key, count) in logLimiter.drainSuppressed(at: now) {
            logger.notice("lwm2m repeated log lines suppressed", metadata: ["line": "\(key)", "suppressed": "\(count)"])
        }
        for (key, count) in CoAPLog.fallback.limiter.drainSuppressed(at: now) {
            CoAPLog.fallback.logger.notice("repeated log lines suppressed", metadata: ["line": "\(key)", "suppressed": "\(count)"])
        }
    }

    /// A warning that can repeat (one per bad handshake or request): rate-limited across threads,
    /// with the number held back since the last one that went out.
    func logRepeated(_ level: Logger.Level, _ message: String, metadata: Logger.Metadata = [:]) {
        guard level >= logger.logLevel, let suppressed = logLimiter.admit(message, at: ContinuousClock.now) else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.log(level: level, "\(message)", metadata: metadata)
    }

    func publishCounters() {
        core.counters.openSessions = core.sessions.count
        let snapshot = core.counters
        sharedCounters.withLock { $0 = snapshot }
    }
}
