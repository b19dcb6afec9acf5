import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The libcoap side of the server: one libcoap context on one CoAP thread. Every method runs on
/// that thread (libcoap 4.3.1 is not thread-safe); other threads only reach it through
/// `enqueue(_:)`, which wakes the loop. With several CoAP threads each has an engine of its own
/// (a shard) with its own sockets on every listener; the registration table is shared, so a
/// device may register on one shard and update from a new address on another.
final class CoAPServerEngine {
    typealias Instant = ContinuousClock.Instant

    enum Command: Sendable {
        /// `forwarded`: another shard handed it on (the device moved); it is not handed on again.
        case downlink(Downlink, forwarded: Bool)
    }

    enum PendingKind {
        /// `registeredAt` is cleared once the device has answered the GET.
        case observe(nodeId: String, registeredAt: Instant?)
        case downlink(nodeId: String, tag: UInt64)
    }

    typealias TokenKey = PendingRequests<PendingKind>.Key

    /// Longest PSK handed to libcoap (GnuTLS accepts longer, but no module uses more).
    static let maxPSKBytes = 64

    let settings: LwM2MServerSettings
    let directory: NBIoTDeviceDirectory
    let logger: Logger
    let clock = ContinuousClock()
    let emit: @Sendable (LwM2MServerEvent) -> Void
    let sharedCounters: Locked<LwM2MServerCounters>
    var counters = LwM2MServerCounters()

    var context: OpaquePointer?
    /// Shared by every shard; held only for the table's own (pure) work.
    let registrations: Locked<RegistrationTable<Instant>>
    /// This engine's number among the CoAP threads; it is the top bits of its peer numbers.
    let shard: Int
    let router: CoAPShardRouter
    /// Sessions by our peer number (the session's app data holds the number).
    var sessions: [UInt64: OpaquePointer] = [:]
    var nextPeer: UInt64
    /// DTLS sessions by remote address (from the first ClientHello on), for the same-address rules.
    var dtlsSessionByAddress: [String: OpaquePointer] = [:]
    /// Sessions that got a key and have not finished their handshake.
    var handshaking: Set<UInt64> = []
    var lastHandshakeScan: ContinuousClock.Instant?
    var pending = PendingRequests<PendingKind>()
    var observeToken: [String: TokenKey] = [:]
    /// Work that must follow the reply of the request being handled, in the same loop turn.
    var afterReply: [RegistrationTable<Instant>.Action] = []
    /// Listener sockets (found under /proc/self/fd; 4.3.1 does not expose them): whether each is DTLS.
    var listenerIsDTLS: [Int32: Bool] = [:]
    private(set) var grantedReceiveBuffers: [Int] = []

    let commands = Locked<[Command]>([])
    /// A self-pipe: writing a byte wakes the loop's poll().
    let wakeRead: Int32
    let wakeWrite: Int32
    let stopRequested = Locked(false)

    /// Repeated warnings (bad identities, failed handshakes, refused requests) and libcoap's own
    /// lines, limited across every CoAP thread of the server.
    let logLimiter: LogRateLimiter
    let logSink: CoAPLog.Sink
    var lastHousekeeping: Instant?
    /// Message IDs of the 4.13 answers to NON requests too long to read.
    var nextNonMessageID = UInt16.random(in: 0...UInt16.max)
    /// libcoap reads 1,472 bytes per datagram (more over DTLS: its record overhead, at most 37
    /// bytes with GnuTLS, comes off the MTU); parse every request it reads whole.
    static let sessionMTU = OversizedDatagram.libcoapReadBytes + 37

    /// Block-wise Register and Update bodies being put together.
    var blockwise = Block1Reassembly<Instant>(maxBodyBytes: RegistrationRequest.maxObjectListBytes,
                                              maxTransfers: CoAPServerEngine.maxBlockwiseTransfers,
                                              idleTimeout: CoAPServerEngine.blockwiseIdleTimeout)
    /// Block-wise transfers held at once per CoAP thread (each at most 2 KiB).
    static let maxBlockwiseTransfers = 1024
    /// A transfer whose next block has not come for this long is dropped (a block retransmitted
    /// four times with NB-IoT timers takes about a minute).
    static let blockwiseIdleTimeout = Duration.seconds(120)

    let pskBytes: UnsafeMutablePointer<UInt8>
    let pskBin: UnsafeMutablePointer<coap_bin_const_t>

    init(settings: LwM2MServerSettings, directory: NBIoTDeviceDirectory, logger: Logger, shard: Int,
         registrations: Locked<RegistrationTable<Instant>>, router: CoAPShardRouter,
         counters: Locked<LwM2MServerCounters>, logLimiter: LogRateLimiter,
         emit: @escaping @Sendable (LwM2MServerEvent) -> Void) {
        self.settings = settings
        self.logLimiter = logLimiter
        self.logSink = CoAPLog.Sink(logger: logger, limiter: logLimiter, level: settings.libcoapLogLevel)
        self.directory = directory
        self.logger = logger
        self.sharedCounters = counters
        self.emit = emit
        self.shard = shard
        self.registrations = registrations
        self.router = router
        self.nextPeer = Self.firstPeer(shard: shard)
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        pskBytes = .allocate(capacity: Self.maxPSKBytes)
        pskBin = .allocate(capacity: 1)
    }

    deinit {
        epollEvents.deallocate()
        pskBytes.deallocate()
        pskBin.deallocate()
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: - Threads other than the CoAP thread

    func enqueue(_ command: Command) {
        commands.withLock { $0.append(command) }
        wake()
    }

    func requestStop() {
        stopRequested.withLock { $0 = true }
        wake()
    }

    func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    // MARK: - Set-up and loop (CoAP thread)

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Free ports tried for each of a listener's sockets before it is moved onto the shared one.
    static let ephemeralPortAttempts = 5

    func setUp() throws {
        coap_startup()
        CoAPLog.install()
        CoAPLog.bind(logSink)
        CoAPLog.raiseLevel(to: settings.libcoapLogLevel)
        guard let context = coap_new_context(nil) else { throw StartError(description: "coap_new_context failed") }
        self.context = context
        let me = Unmanaged.passUnretained(self).toOpaque()
        coap_set_app_data(context, me)
        coap_context_set_max_handshake_sessions(context, UInt32(clamping: settings.maxHandshakesInProgress))
        coap_context_set_session_timeout(context, UInt32(clamping: settings.sessionIdleTimeout))
        coap_context_set_max_idle_sessions(context, UInt32(clamping: settings.maxIdleSessions))

        if !settings.dtlsListeners.isEmpty {
            var spsk = coap_dtls_spsk_t()
            spsk.version = UInt8(COAP_DTLS_SPSK_SETUP_VERSION)
            spsk.validate_id_call_back = lwm2mValidatePSKIdentity
            spsk.id_call_back_arg = me
            guard coap_context_set_psk2(context, &spsk) != 0 else {
                throw StartError(description: "coap_context_set_psk2 failed (is DTLS supported by the linked libcoap?)")
            }
        }
        for listener in settings.dtlsListeners { try bind(listener, proto: COAP_PROTO_DTLS) }
        for listener in settings.plainListeners { try bind(listener, proto: COAP_PROTO_UDP) }

        coap_register_response_handler(context, lwm2mResponseHandler)
        coap_register_nack_handler(context, lwm2mNackHandler)
        coap_register_event_handler(context, lwm2mEventHandler)

        guard let uri = coap_new_str_const("rd", 2),
              let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else {
            throw StartError(description: "cannot create the /rd resource")
        }
        coap_register_handler(resource, COAP_REQUEST_POST, lwm2mRegisterHandler)
        coap_add_resource(context, resource)
        // Update and De-register go to `rd/<id>`: one handler for every path libcoap does not know
        // finds the registration by its id, so no resource is kept per registration.
        guard let registrations = coap_resource_unknown_init2(nil, 0) else {
            throw StartError(description: "cannot create the rd/<id> handler")
        }
        coap_register_handler(registrations, COAP_REQUEST_POST, lwm2mRegistrationUpdateHandler)
        coap_register_handler(registrations, COAP_REQUEST_DELETE, lwm2mRegistrationDeleteHandler)
        coap_add_resource(context, registrations)
    }

    func bind(_ listener: LwM2MServerSettings.Listener, proto: coap_proto_t) throws {
        guard let context else { return }
        var address = coap_address_t()
        coap_address_init(&address)
        var family = AF_INET
        if inet_pton(AF_INET, listener.host, &address.addr.sin.sin_addr) == 1 {
            address.addr.sin.sin_family = sa_family_t(AF_INET)
            address.addr.sin.sin_port = listener.port.bigEndian
            address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, listener.host, &address.addr.sin6.sin6_addr) == 1 {
            family = AF_INET6
            address.addr.sin6.sin6_family = sa_family_t(AF_INET6)
            address.addr.sin6.sin6_port = listener.port.bigEndian
            address.size = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw StartError(description: "listener host '\(listener.host)' is not an IPv4 or IPv6 address")
        }
        // Shards after the first join the sockets the first one bound.
        guard shard > 0 || !SocketTools.udpPortInUse(listener.port, family: family) else {
            throw StartError(description: "cannot listen on \(listener): UDP port \(listener.port) is already in use")
        }
        let scheme = proto == COAP_PROTO_DTLS ? "coaps" : "coap"
        var fds: [Int32] = []
        if settings.socketsPerListener <= 1 && settings.coapThreads <= 1 {
            guard coap_new_endpoint(context, &address, proto) != nil else {
                throw StartError(description: "cannot listen on \(listener) (\(scheme)): port in use or address not local")
            }
            fds = SocketTools.udpSockets(boundTo: listener.port, family: family)
        } else {
            // Each endpoint on a free port first (found by that port), then moved onto a shared
            // SO_REUSEPORT socket.
            for _ in 0..<min(max(1, settings.socketsPerListener), LwM2MServerSettings.maxSocketsPerListener) {
                // The free port is only free when looked at: another socket may take it before
                // libcoap binds it, so a few are tried.
                var bound: UInt16?
                for _ in 0..<Self.ephemeralPortAttempts where bound == nil {
                    var ephemeral = address
                    guard let free = SocketTools.freeUDPPort(like: address) else {
                        throw StartError(description: "cannot listen on \(listener) (\(scheme)): no free port to start from")
                    }
                    if family == AF_INET { ephemeral.addr.sin.sin_port = free.bigEndian } else { ephemeral.addr.sin6.sin6_port = free.bigEndian }
                    if coap_new_endpoint(context, &ephemeral, proto) != nil { bound = free }
                }
                guard let free = bound else {
                    throw StartError(description: "cannot listen on \(listener) (\(scheme)): address not local")
                }
                let created = SocketTools.udpSockets(boundTo: free, family: family)
                guard created.count == 1, let fd = created.first else {
                    throw StartError(description: "cannot listen on \(listener) (\(scheme)): libcoap's socket not found")
                }
                fds.append(fd)
            }
            do {
                try ReusePortTakeover.takeOver(fds: fds, address: address, epollFD: coap_context_get_coap_fd(context))
            } catch {
                throw StartError(description: "cannot share \(listener) (\(scheme)) over several sockets: \(error) (set [lwm2m] listener_sockets = 1)")
            }
        }
        for fd in fds {
            grantedReceiveBuffers.append(SocketTools.setReceiveBuffer(fd: fd, bytes: settings.receiveBufferBytes))
            listenerIsDTLS[fd] = proto == COAP_PROTO_DTLS
        }
        // One line per CoAP thread: the thread says which, so the lines do not read as repeats.
        logger.info("lwm2m listening", metadata: [
            "listener": "\(listener)", "scheme": "\(scheme)", "sockets": "\(fds.count)",
            "rcvbuf": "\(grantedReceiveBuffers.last ?? 0)", "thread": "\(shard + 1)",
        ])
    }

    /// Drops what reached this shard's listener sockets while the other shards were still binding
    /// theirs. The kernel picks a socket of an SO_REUSEPORT group from the peer's address and the
    /// group's size, so a handshake begun then would go on at another shard, whose DTLS cookie
    /// secret differs. Called before any shard reads; the devices send their ClientHello again.
    func discardDatagramsQueuedDuringStartUp() -> Int {
        var discarded = 0
        var byte: UInt8 = 0
        for fd in listenerIsDTLS.keys {
            while recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) >= 0 { discarded += 1 }
        }
        return discarded
    }

    /// Frees a context whose set-up failed half-way.
    func runLoopTearDownOnly() {
        if let context { coap_free_context(context) }
        context = nil
        CoAPLog.unbind()
    }

    /// Runs until `requestStop()`; then frees the context on this thread.
    func runLoop() {
        guard let context else { return }
        let coapFD = coap_context_get_coap_fd(context)
        var fds = [pollfd(fd: coapFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !stopRequested.withLock({ $0 }) {
            drainCommands()
            processDatagrams(context: context, epollFD: coapFD)
            checkHandshakes()
            expireRegistrations()
            flushAfterReply()
            trimMemoryAfterBurst()
            housekeeping()
            publishCounters()
            fds[0].revents = 0
            fds[1].revents = 0
            let timeout = pollTimeoutMilliseconds()
            if poll(&fds, 2, timeout) > 0, fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
        }
        coap_free_context(context)
        self.context = nil
        publishCounters()
        CoAPLog.unbind()
    }

    /// Once a second: idle block-wise transfers go, and the first thread reports the lines the
    /// limiter held back in windows that are over.
    func housekeeping() {
        let now = clock.now
        if let last = lastHousekeeping, last.duration(to: now) < .seconds(1) { return }
        lastHousekeeping = now
        if blockwise.count > 0 { blockwise.expire(at: now) }
        guard shard == 0 else { return }
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
        guard level >= logger.logLevel, let suppressed = logLimiter.admit(message, at: clock.now) else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.log(level: level, "\(message)", metadata: metadata)
    }

    /// Handshakes leave freed buffers behind that glibc keeps; give them back once a burst is over.
    var trimmedAfterBurst = true
    func trimMemoryAfterBurst() {
        if !handshaking.isEmpty { trimmedAfterBurst = false; return }
        guard !trimmedAfterBurst else { return }
        trimmedAfterBurst = true
        _ = Epoll.mallocTrim?(0)
    }

    /// Read batches before the loop's own bookkeeping runs again.
    static let batchesPerWakeup = 8
    /// Ready descriptors taken from one `epoll_wait` (listeners and libcoap's timer).
    static let maxReadyEvents = 8
    /// Datagrams one listener hands to libcoap in one batch. libcoap walks every session after each
    /// batch, and the Observe of a Register in the batch leaves right after it: 16 datagrams take
    /// about 2 ms to handle.
    static let maxDatagramsPerBatch = 16
    let epollEvents = UnsafeMutableRawPointer.allocate(
        byteCount: CoAPServerEngine.maxReadyEvents * CoAPServerEngine.maxDatagramsPerBatch * Epoll.eventBytes, alignment: 8)
    let queuePeek = DatagramQueuePeek()
    static func ceilingMilliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    func pollTimeoutMilliseconds() -> Int32 {
        if !afterReply.isEmpty { return 0 }
        // A datagram may still wait behind the one libcoap read: let poll say so at once.
        var timeout: Int32 = 1000
        if shard == 0, let next = registrations.withLock({ $0.nextExpiry }) {
            timeout = min(timeout, Self.ceilingMilliseconds(clock.now.duration(to: next)))
        }
        return timeout
    }

    func publishCounters() {
        counters.openSessions = sessions.count
        let snapshot = counters
        sharedCounters.withLock { $0 = snapshot }
    }
}
