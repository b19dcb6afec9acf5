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

    private enum PendingKind {
        /// `registeredAt` is cleared once the device has answered the GET.
        case observe(nodeId: String, registeredAt: Instant?)
        case downlink(nodeId: String, tag: UInt64)
    }

    private typealias TokenKey = PendingRequests<PendingKind>.Key

    /// Longest PSK handed to libcoap (GnuTLS accepts longer, but no module uses more).
    static let maxPSKBytes = 64

    let settings: LwM2MServerSettings
    let directory: NBIoTDeviceDirectory
    let logger: Logger
    private let clock = ContinuousClock()
    private let emit: @Sendable (LwM2MServerEvent) -> Void
    private let sharedCounters: Locked<LwM2MServerCounters>
    private var counters = LwM2MServerCounters()

    private var context: OpaquePointer?
    /// Shared by every shard; held only for the table's own (pure) work.
    private let registrations: Locked<RegistrationTable<Instant>>
    /// This engine's number among the CoAP threads; it is the top bits of its peer numbers.
    let shard: Int
    private let router: CoAPShardRouter
    /// Sessions by our peer number (the session's app data holds the number).
    private var sessions: [UInt64: OpaquePointer] = [:]
    private var nextPeer: UInt64
    /// Established DTLS sessions by remote address, for the same-address reconnect rule.
    private var establishedByAddress: [String: OpaquePointer] = [:]
    /// Sessions that got a key and have not finished their handshake.
    private var handshaking: Set<UInt64> = []
    private var lastHandshakeScan: ContinuousClock.Instant?
    private var pending = PendingRequests<PendingKind>()
    private var observeToken: [String: TokenKey] = [:]
    /// Work that must follow the reply of the request being handled, in the same loop turn.
    private var afterReply: [RegistrationTable<Instant>.Action] = []
    /// Listener sockets (found under /proc/self/fd; 4.3.1 does not expose them): whether each is DTLS.
    private var listenerIsDTLS: [Int32: Bool] = [:]
    private(set) var grantedReceiveBuffers: [Int] = []

    private let commands = Locked<[Command]>([])
    /// A self-pipe: writing a byte wakes the loop's poll().
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let stopRequested = Locked(false)

    /// A flood of bad identities must not flood the log.
    private var unknownIdentityLog = LogRateLimit(perWindow: 10, window: .seconds(10))

    private let pskBytes: UnsafeMutablePointer<UInt8>
    private let pskBin: UnsafeMutablePointer<coap_bin_const_t>

    init(settings: LwM2MServerSettings, directory: NBIoTDeviceDirectory, logger: Logger, shard: Int,
         registrations: Locked<RegistrationTable<Instant>>, router: CoAPShardRouter,
         counters: Locked<LwM2MServerCounters>, emit: @escaping @Sendable (LwM2MServerEvent) -> Void) {
        self.settings = settings
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

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    // MARK: - Set-up and loop (CoAP thread)

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    func setUp() throws {
        coap_startup()
        coap_set_log_level(settings.libcoapLogLevel)
        coap_dtls_set_log_level(settings.libcoapLogLevel)
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

    private func bind(_ listener: LwM2MServerSettings.Listener, proto: coap_proto_t) throws {
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
                var ephemeral = address
                guard let free = SocketTools.freeUDPPort(like: address) else {
                    throw StartError(description: "cannot listen on \(listener) (\(scheme)): no free port to start from")
                }
                if family == AF_INET { ephemeral.addr.sin.sin_port = free.bigEndian } else { ephemeral.addr.sin6.sin6_port = free.bigEndian }
                guard coap_new_endpoint(context, &ephemeral, proto) != nil else {
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
        logger.info("lwm2m listening", metadata: [
            "listener": "\(listener)", "scheme": "\(scheme)", "sockets": "\(fds.count)",
            "rcvbuf": "\(grantedReceiveBuffers.last ?? 0)",
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
    }

    /// Handshakes leave freed buffers behind that glibc keeps; give them back once a burst is over.
    private var trimmedAfterBurst = true
    private func trimMemoryAfterBurst() {
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
    private let epollEvents = UnsafeMutableRawPointer.allocate(
        byteCount: CoAPServerEngine.maxReadyEvents * CoAPServerEngine.maxDatagramsPerBatch * Epoll.eventBytes, alignment: 8)
    private let queuePeek = DatagramQueuePeek()

    /// `coap_io_do_epoll` reads one datagram per ready event and then walks every session (idle
    /// timeouts, a DTLS clock read per session, retransmissions): with thousands of sessions in a
    /// storm that walk dominates if it runs per datagram (measured: a quarter of the server's CPU at
    /// 2,000 sessions). So each listener's event is repeated once per datagram waiting on it, counted
    /// by peeking at the queue, and one walk serves the whole batch. The peek also finds ClientHellos
    /// from addresses with a session (same-address reconnect) before libcoap reads them.
    private func processDatagrams(context: OpaquePointer, epollFD: Int32) {
        guard let epollWait = Epoll.wait else {
            coap_io_process(context, UInt32.max)
            flushAfterReply()
            return
        }
        var batches = 0
        while batches < Self.batchesPerWakeup {
            let ready = Int(epollWait(epollFD, epollEvents, Int32(Self.maxReadyEvents), 0))
            guard ready > 0 else { break }
            let events = expandListenerEvents(ready: ready, context: context)
            coap_io_do_epoll(context, OpaquePointer(epollEvents), events)
            counters.sessionWalks += 1
            // Right after the batch that carried a Register: its Observe, before anything else is read.
            flushAfterReply()
            batches += 1
        }
    }

    /// Appends a copy of each listener's event per extra datagram waiting on it; returns the count.
    private func expandListenerEvents(ready: Int, context: OpaquePointer) -> Int {
        var total = ready
        var replaced = false
        for index in 0..<ready {
            let event = epollEvents + index * Epoll.eventBytes
            // Trust the socket only when it names one of our listeners (libcoap's timer event
            // carries no socket).
            guard event.loadUnaligned(as: UInt32.self) & Epoll.readable != 0,
                  let fd = Epoll.libcoapDescriptor(data: Epoll.data(in: epollEvents, at: index)),
                  let dtls = listenerIsDTLS[fd] else { continue }
            let waiting = queuePeek.peek(fd: fd, limit: Self.maxDatagramsPerBatch) { datagram, source in
                if dtls, checkForReconnect(datagram: datagram, source: source) { replaced = true }
            }
            counters.datagrams += max(1, waiting)
            for _ in 1..<max(1, waiting) {
                (epollEvents + total * Epoll.eventBytes).copyMemory(from: event, byteCount: Epoll.eventBytes)
                total += 1
            }
        }
        if replaced {
            // The dropped sessions are freed by a walk, which must run before their ClientHellos are read.
            var now: coap_tick_t = 0
            coap_ticks(&now)
            _ = coap_io_prepare_epoll(context, now)
            counters.sessionWalks += 1
        }
        return total
    }

    static func ceilingMilliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    private func pollTimeoutMilliseconds() -> Int32 {
        if !afterReply.isEmpty { return 0 }
        // A datagram may still wait behind the one libcoap read: let poll say so at once.
        var timeout: Int32 = 1000
        if shard == 0, let next = registrations.withLock({ $0.nextExpiry }) {
            timeout = min(timeout, Self.ceilingMilliseconds(clock.now.duration(to: next)))
        }
        return timeout
    }

    private func publishCounters() {
        counters.openSessions = sessions.count
        let snapshot = counters
        sharedCounters.withLock { $0 = snapshot }
    }

    // MARK: - Same-address reconnect

    /// Drops the session of an address that starts a new handshake; returns whether it did.
    private func checkForReconnect(datagram: UnsafeRawBufferPointer, source: UnsafePointer<sockaddr>) -> Bool {
        guard DTLSRecord.isClientHello(datagram) else { return false }
        counters.clientHellos += 1
        let address = SocketTools.describe(sockaddr: source)
        guard let old = establishedByAddress.removeValue(forKey: address) else { return false }
        // The device rebooted or its NAT mapping was reused: the old session must go now, or libcoap
        // would hand the ClientHello to the old DTLS state and ignore it until the idle timeout.
        counters.sessionsReplaced += 1
        logger.info("lwm2m new handshake from an address with a session: replacing it", metadata: ["address": "\(address)"])
        forgetSession(old)
        coap_session_disconnected(old, COAP_NACK_NOT_DELIVERABLE)
        return true
    }

    // MARK: - Sessions

    /// Peer numbers carry their shard in the top 16 bits.
    static func firstPeer(shard: Int) -> UInt64 { UInt64(shard) << 48 | 1 }
    static func shard(ofPeer peer: UInt64) -> Int { Int(peer >> 48) }

    private func peerNumber(_ session: OpaquePointer) -> UInt64 {
        if let data = coap_session_get_app_data(session) { return UInt64(UInt(bitPattern: data)) }
        let number = nextPeer
        nextPeer += 1
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(number)))
        sessions[number] = session
        return number
    }

    private func address(of session: OpaquePointer) -> String {
        guard let remote = coap_session_get_addr_remote(session) else { return "?" }
        return withUnsafePointer(to: remote.pointee.addr.sa) { SocketTools.describe(sockaddr: $0) }
    }

    private func transport(of session: OpaquePointer) -> Transport {
        guard coap_session_get_proto(session) == COAP_PROTO_DTLS else { return .udp }
        // On plain UDP the identity is empty-not-NULL, hence the protocol check first.
        guard let identity = coap_session_get_psk_identity(session), let bytes = identity.pointee.s else {
            return .dtls(identity: "")
        }
        return .dtls(identity: String(decoding: UnsafeBufferPointer(start: bytes, count: identity.pointee.length), as: UTF8.self))
    }

    private func forgetSession(_ session: OpaquePointer) {
        guard let data = coap_session_get_app_data(session) else { return }
        let number = UInt64(UInt(bitPattern: data))
        sessions[number] = nil
        handshaking.remove(number)
        for (key, kind) in pending.removeAll(peer: number) {
            if case .observe(let nodeId, _) = kind, observeToken[nodeId] == key { observeToken[nodeId] = nil }
        }
        let address = address(of: session)
        if establishedByAddress[address] == session { establishedByAddress[address] = nil }
    }

    func pskKey(identity: [UInt8], session: OpaquePointer?) -> UnsafePointer<coap_bin_const_t>? {
        let name = String(decoding: identity, as: UTF8.self)
        guard let key = directory.pskKey(identity: name), !key.isEmpty, key.count <= Self.maxPSKBytes else {
            counters.unknownIdentities += 1
            if unknownIdentityLog.allow(at: clock.now) {
                logger.warning("lwm2m DTLS handshake refused: unknown PSK identity", metadata: [
                    "identity": "\(name.prefix(64))", "refused_total": "\(counters.unknownIdentities)",
                ])
            }
            return nil
        }
        counters.identitiesAccepted += 1
        if let session { handshaking.insert(peerNumber(session)) }
        for (index, byte) in key.enumerated() { pskBytes[index] = byte }
        pskBin.pointee = coap_bin_const_t(length: key.count, s: UnsafePointer(pskBytes))
        return UnsafePointer(pskBin)
    }

    func handleEvent(session: OpaquePointer, event: coap_event_t) {
        switch event {
        case COAP_EVENT_SERVER_SESSION_NEW:
            _ = peerNumber(session)
            coap_session_set_ack_timeout(session, Self.fixedPoint(settings.ackTimeout))
            coap_session_set_ack_random_factor(session, Self.fixedPoint(settings.ackRandomFactor))
            coap_session_set_max_retransmit(session, UInt16(clamping: settings.maxRetransmit))
        case COAP_EVENT_DTLS_CONNECTED:
            noteEstablished(peerNumber(session), session)
        case COAP_EVENT_DTLS_CLOSED, COAP_EVENT_DTLS_ERROR:
            // A peer may close before the periodic handshake scan saw it established.
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { noteEstablished(peerNumber(session), session) }
        case COAP_EVENT_SERVER_SESSION_DEL:
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { noteEstablished(peerNumber(session), session) }
            if let data = coap_session_get_app_data(session), handshaking.contains(UInt64(UInt(bitPattern: data))) {
                counters.handshakesFailed += 1
                logger.warning("lwm2m DTLS handshake did not complete (wrong key or lost peer)",
                               metadata: ["address": "\(address(of: session))"])
            }
            forgetSession(session)
        default:
            break
        }
    }

    /// libcoap 4.3.1 raises no DTLS_CONNECTED for server sessions: look at the sessions still in handshake.
    private func checkHandshakes() {
        // A walk over every session in handshake on every datagram would cost O(n) per packet in a
        // storm: look at most every 50 ms (requests mark their session established at once anyway).
        guard !handshaking.isEmpty else { return }
        let now = clock.now
        if let last = lastHandshakeScan, last.duration(to: now) < .milliseconds(50) { return }
        lastHandshakeScan = now
        for number in handshaking {
            guard let session = sessions[number] else { handshaking.remove(number); continue }
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { noteEstablished(number, session) }
        }
    }

    private func noteEstablished(_ number: UInt64, _ session: OpaquePointer) {
        guard handshaking.remove(number) != nil else { return }
        counters.handshakesCompleted += 1
        establishedByAddress[address(of: session)] = session
    }

    static func fixedPoint(_ value: Double) -> coap_fixed_point_t {
        let integer = max(0, Int(value))
        let fraction = Int(((value - Double(integer)) * 1000).rounded())
        return coap_fixed_point_t(integer_part: UInt16(clamping: integer), fractional_part: UInt16(clamping: min(999, fraction)))
    }

    // MARK: - Registration interface

    func handleRegister(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?, response: OpaquePointer) {
        let queryText = query.map { string in
            string.pointee.s.map { String(decoding: UnsafeBufferPointer(start: $0, count: string.pointee.length), as: UTF8.self) } ?? ""
        } ?? ""
        let body = payload(of: request)
        let peer = peerNumber(session)
        noteEstablished(peer, session)
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: queryText, body: body)
        } catch {
            counters.registrationsRefused += 1
            logger.warning("lwm2m register refused", metadata: ["reason": "\(error)", "address": "\(address(of: session))"])
            if case .objectListTooLong = error { reply(.requestTooLarge(error.description), response: response) } else {
                reply(.badRequest(error.description), response: response)
            }
            return
        }
        let device = parsed.endpoint.flatMap { directory.device(nodeId: $0) }
        let (transport, address, now) = (transport(of: session), address(of: session), clock.now)
        let actions = registrations.withLock { $0.register(parsed, device: device, transport: transport, peer: PeerID(peer),
                                                           address: address, at: now) }
        apply(actions, response: response)
    }

    func handleUpdate(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?,
                      response: OpaquePointer) {
        guard let id = registrationId(of: request) else { reply(.notFound, response: response); return }
        let queryText = query.map { string in
            string.pointee.s.map { String(decoding: UnsafeBufferPointer(start: $0, count: string.pointee.length), as: UTF8.self) } ?? ""
        } ?? ""
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: queryText, body: payload(of: request))
        } catch {
            reply(.badRequest(error.description), response: response)
            return
        }
        let (transport, peer, address, now) = (transport(of: session), PeerID(peerNumber(session)), address(of: session), clock.now)
        let actions = registrations.withLock {
            $0.update(registrationId: id, lifetime: parsed.lifetime, binding: parsed.binding, objectLinks: parsed.objectLinks,
                      transport: transport, peer: peer, address: address, at: now)
        }
        apply(actions, response: response)
    }

    func handleDeregister(session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let id = registrationId(of: request) else { reply(.notFound, response: response); return }
        let (transport, now) = (transport(of: session), clock.now)
        apply(registrations.withLock { $0.deregister(registrationId: id, transport: transport, at: now) }, response: response)
    }

    /// The `<id>` of a request to `rd/<id>`: the only paths besides `rd` a device may use.
    private func registrationId(of request: OpaquePointer) -> String? {
        guard let uri = coap_get_uri_path(request) else { return nil }
        defer { coap_delete_string(uri) }
        guard let bytes = uri.pointee.s else { return nil }
        let path = String(decoding: UnsafeBufferPointer(start: bytes, count: uri.pointee.length), as: UTF8.self)
        guard path.hasPrefix("rd/") else { return nil }
        let id = path.dropFirst(3)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    private func payload(of pdu: OpaquePointer) -> [UInt8] {
        var length = 0
        var data: UnsafePointer<UInt8>?
        guard coap_get_data(pdu, &length, &data) != 0, let data, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    private func apply(_ actions: [RegistrationTable<Instant>.Action], response: OpaquePointer?) {
        for action in actions {
            switch action {
            case .reply(let answer):
                if let response { reply(answer, response: response) }
            case .observe:
                afterReply.append(action)
            case .peerReplaced(let old, let nodeId):
                if let key = observeToken[nodeId], key.peer == old.rawValue {
                    pending[key] = nil
                    observeToken[nodeId] = nil
                }
            case .registered(let nodeId, _):
                counters.registrations += 1
                if let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) {
                    emit(.registered(RegistrationInfo(registration)))
                    logger.info("lwm2m registered", metadata: ["node": "\(nodeId)", "address": "\(registration.address)"])
                }
            case .updated(let nodeId):
                counters.updates += 1
                emit(.updated(nodeId: nodeId))
            case .offline(let nodeId, let reason):
                if reason == .deregistered { counters.deregistrations += 1 } else { counters.expirations += 1 }
                if let key = observeToken.removeValue(forKey: nodeId) { pending[key] = nil }
                logger.info("lwm2m offline", metadata: ["node": "\(nodeId)", "reason": "\(reason.rawValue)"])
                emit(.offline(nodeId: nodeId, reason: reason))
            }
        }
        if actions.contains(where: { if case .reply(.forbidden) = $0 { true } else if case .reply(.badRequest) = $0 { true } else { false } }) {
            counters.registrationsRefused += 1
            for case .reply(let answer) in actions { logger.warning("lwm2m register refused", metadata: ["reason": "\(answer)"]) }
        }
    }

    private func reply(_ answer: RegistrationTable<Instant>.Reply, response: OpaquePointer) {
        switch answer {
        case .created(let id):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED)
            addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array("rd".utf8))
            addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array(id.utf8))
        case .changed:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
        case .deleted:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED)
        case .badRequest(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST)
            addDiagnostic(response, text)
        case .forbidden(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_FORBIDDEN)
            addDiagnostic(response, text)
        case .notFound:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
        case .requestTooLarge(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE)
            addDiagnostic(response, text)
        }
    }

    private func addOption(_ pdu: OpaquePointer, number: UInt16, value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    private func addDiagnostic(_ pdu: OpaquePointer, _ text: String) {
        let bytes = Array(text.utf8.prefix(120))
        _ = bytes.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) }
    }

    /// Runs the work queued behind a reply: the Observe GET (the 513 budget).
    private func flushAfterReply() {
        let work = afterReply
        afterReply.removeAll(keepingCapacity: true)
        for action in work {
            switch action {
            case .observe(let nodeId, _, let path, let peer):
                guard let session = sessions[peer.rawValue],
                      let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) else { continue }
                if let old = observeToken.removeValue(forKey: nodeId) { pending[old] = nil }
                if let token = sendRequest(session: session, code: COAP_REQUEST_CODE_GET, path: path, observe: true, payload: nil) {
                    let key = TokenKey(peer: peer.rawValue, token: token)
                    pending[key] = .observe(nodeId: nodeId, registeredAt: registration.registeredAt)
                    observeToken[nodeId] = key
                    counters.observesSent += 1
                }
            default:
                break
            }
        }
    }

    /// The first shard ends the registrations whose lifetime passed, for all of them.
    private func expireRegistrations() {
        guard shard == 0 else { return }
        let now = clock.now
        let expired = registrations.withLock { table -> [RegistrationTable<Instant>.Action] in
            guard let next = table.nextExpiry, next <= now else { return [] }
            return table.expire(at: now)
        }
        if !expired.isEmpty { apply(expired, response: nil) }
    }

    // MARK: - Requests we send (Observe, downlink)

    /// Sends a confirmable request; returns its token, or nil if libcoap refused it.
    private func sendRequest(session: OpaquePointer, code: coap_pdu_code_t, path: String, observe: Bool,
                             payload: [UInt8]?) -> UInt64? {
        let mid = coap_mid_t(coap_new_message_id(session))
        guard let pdu = coap_pdu_init(COAP_MESSAGE_CON, code, mid, coap_session_max_pdu_size(session)) else { return nil }
        var token = [UInt8](repeating: 0, count: 8)
        var length = 0
        coap_session_new_token(session, &length, &token)
        guard coap_add_token(pdu, length, token) != 0 else { coap_delete_pdu(pdu); return nil }
        if observe { _ = coap_add_option(pdu, UInt16(COAP_OPTION_OBSERVE), 0, nil) }
        for segment in path.split(separator: "/") { addOption(pdu, number: UInt16(COAP_OPTION_URI_PATH), value: Array(segment.utf8)) }
        if let payload {
            var format = [UInt8](repeating: 0, count: 2)
            let formatLength = Int(coap_encode_var_safe(&format, 2, UInt32(settings.downlinkContentFormat)))
            addOption(pdu, number: UInt16(COAP_OPTION_CONTENT_FORMAT), value: Array(format.prefix(formatLength)))
            guard payload.withUnsafeBufferPointer({ coap_add_data(pdu, $0.count, $0.baseAddress) }) != 0 else {
                coap_delete_pdu(pdu)
                return nil
            }
        }
        // libcoap takes the ACK timeout when it queues the message: short for the Observe, the
        // platform's back-off for downlink writes.
        coap_session_set_ack_timeout(session, Self.fixedPoint(observe ? settings.observeAckTimeout : settings.ackTimeout))
        guard coap_send(session, pdu) != COAP_INVALID_MID else { return nil }
        return Self.tokenValue(token.prefix(length))
    }

    private static func tokenValue<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    private func drainCommands() {
        let work = commands.withLock { queue -> [Command] in
            let taken = queue
            queue.removeAll()
            return taken
        }
        for command in work {
            switch command {
            case .downlink(let downlink, let forwarded): sendDownlink(downlink, forwarded: forwarded)
            }
        }
    }

    private func sendDownlink(_ downlink: Downlink, forwarded: Bool) {
        guard downlink.payload.count <= settings.maxPayloadBytes else {
            emit(.downlinkResult(tag: downlink.tag, nodeId: downlink.nodeId, result: .tooLarge))
            return
        }
        let registration = registrations.withLock { $0.registration(nodeId: downlink.nodeId) }
        if let registration, Self.shard(ofPeer: registration.peer.rawValue) != shard, !forwarded {
            // The device moved to another shard's session since the write was routed.
            router.send(downlink, forwarded: true)
            return
        }
        guard let registration, let session = sessions[registration.peer.rawValue],
              coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED else {
            counters.downlinksFailed += 1
            emit(.downlinkResult(tag: downlink.tag, nodeId: downlink.nodeId, result: .notReachable))
            return
        }
        let code = settings.downlinkMethod == .put ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_POST
        let path = downlink.path ?? registration.resources.downlink
        guard let token = sendRequest(session: session, code: code, path: path, observe: false, payload: downlink.payload) else {
            counters.downlinksFailed += 1
            emit(.downlinkResult(tag: downlink.tag, nodeId: downlink.nodeId, result: .notReachable))
            return
        }
        counters.downlinksSent += 1
        pending[TokenKey(peer: registration.peer.rawValue, token: token)] = .downlink(nodeId: downlink.nodeId, tag: downlink.tag)
    }

    // MARK: - Responses to what we sent

    func handleResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        let peer = peerNumber(session)
        let token = coap_pdu_get_token(received)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        let key = TokenKey(peer: peer, token: value)
        guard let kind = pending[key] else {
            counters.unknownResponses += 1
            return false
        }
        let code = UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue)
        switch kind {
        case .observe(let nodeId, let registeredAt):
            guard let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }),
                  registration.peer.rawValue == peer else {
                // The registration ended or moved to another session (possibly another shard's):
                // this observation is stale, and the RST libcoap sends for it cancels it.
                pending[key] = nil
                if observeToken[nodeId] == key { observeToken[nodeId] = nil }
                counters.unknownResponses += 1
                return false
            }
            guard code >> 5 == 2 else {
                pending[key] = nil
                observeToken[nodeId] = nil
                emit(.observeFailed(nodeId: nodeId, reason: "device answered \(code >> 5).\(String(format: "%02d", code & 0x1F))"))
                return true
            }
            if let registeredAt {
                // The first answer to our GET: the device is subscribed.
                emit(.observing(nodeId: nodeId, latency: registeredAt.duration(to: clock.now)))
                pending[key] = .observe(nodeId: nodeId, registeredAt: nil)
            }
            let body = payload(of: received)
            guard !body.isEmpty else { return true }
            guard body.count <= settings.maxPayloadBytes else {
                counters.oversizedPayloads += 1
                logger.warning("lwm2m oversized notification dropped", metadata: ["node": "\(nodeId)", "bytes": "\(body.count)"])
                return true
            }
            counters.notifications += 1
            emit(.uplink(nodeId: nodeId, productId: registration.productId, payload: body, receivedAt: Date()))
        case .downlink(let nodeId, let tag):
            pending[key] = nil
            let result: DownlinkDeliveryResult = code >> 5 == 2 ? .acknowledged(code: code) : .refused(code: code)
            emit(.downlinkResult(tag: tag, nodeId: nodeId, result: result))
        }
        return true
    }

    func handleNack(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        guard let data = coap_session_get_app_data(session) else { return }
        let token = coap_pdu_get_token(sent)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        let key = TokenKey(peer: UInt64(UInt(bitPattern: data)), token: value)
        guard let kind = pending.removeValue(forKey: key) else { return }
        let result: DownlinkDeliveryResult = switch reason {
        case COAP_NACK_TOO_MANY_RETRIES: .timedOut
        case COAP_NACK_RST: .reset
        default: .notReachable
        }
        switch kind {
        case .observe(let nodeId, _):
            if observeToken[nodeId] == key { observeToken[nodeId] = nil }
            emit(.observeFailed(nodeId: nodeId, reason: "\(result)"))
        case .downlink(let nodeId, let tag):
            counters.downlinksFailed += 1
            emit(.downlinkResult(tag: tag, nodeId: nodeId, result: result))
        }
    }
}
