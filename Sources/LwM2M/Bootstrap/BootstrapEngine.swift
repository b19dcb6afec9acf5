import Bootstrap
import CCoAP
import Foundation
import GatewayCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The bootstrap server's libcoap side (its CoAP thread only, but for `requestStop`): turns the
/// callbacks into the device's `BootstrapSession` events and its actions into requests.
final class BootstrapEngine: @unchecked Sendable { // set up, then used on its thread only (but the Locked fields)
    typealias Session = BootstrapSession<GatewayClock>

    struct Active {
        var session: OpaquePointer
        var machine: Session
        /// The token of the request in flight.
        var token: UInt64?
    }

    let settings: BootstrapServerSettings
    let provider: BootstrapProvider
    let clock: GatewayClock
    let logger: Logger
    let emit: @Sendable (BootstrapServerEvent) -> Void
    let finish: @Sendable () -> Void
    var context: OpaquePointer?
    var active: [String: Active] = [:]
    /// The endpoint bootstrapping on each session, to find an answer's session in one lookup.
    var endpointBySession: [OpaquePointer: String] = [:]
    /// Sessions whose `POST /bs` was answered in this loop turn: their first request goes next.
    var starting: [String] = []
    var loopDetector = BootstrapLoopDetector<GatewayClock>()
    var counters = BootstrapCounters()
    var publishedCounters = BootstrapCounters()
    var loopsChanged = false
    var nextLoopsRefresh: GatewayClock.Instant?
    var nextTick: GatewayClock.Instant?
    /// The listener sockets (the other descriptors in libcoap's epoll set are its timer's).
    var listeners: Set<Int32> = []
    let batch = EpollBatch(maxReadyEvents: 8, maxDatagramsPerEvent: 16)
    let queuePeek = DatagramQueuePeek()
    let sharedCounters = Locked(BootstrapCounters())
    let sharedLoops = Locked<[String: Int]>([:])
    /// Devices observed by the LwM2M server since the last loop turn (`BootstrapServer.settled`).
    let settledEndpoints = Locked<[String]>([])
    let running = Locked(false)
    let stopRequested = Locked(false)
    let wakePipe = WakePipe()
    let psk = PSKHandout()

    init(settings: BootstrapServerSettings, provider: BootstrapProvider, clock: GatewayClock, logger: Logger,
         emit: @escaping @Sendable (BootstrapServerEvent) -> Void, finish: @escaping @Sendable () -> Void) {
        self.settings = settings
        self.provider = provider
        self.clock = clock
        self.logger = logger
        self.emit = emit
        self.finish = finish
    }

    struct StartError: Error, CustomStringConvertible { var description: String }

    func setUp() throws {
        coap_startup()
        CoAPLog.install()
        guard let context = coap_new_context(nil) else { throw StartError(description: "coap_new_context failed") }
        self.context = context
        let me = Unmanaged.passUnretained(self).toOpaque()
        coap_set_app_data(context, me)
        coap_context_set_max_handshake_sessions(context, UInt32(clamping: settings.maxHandshakesInProgress))
        if !settings.dtlsListeners.isEmpty {
            guard PSKHandout.serve(on: context, validate: bootstrapValidatePSKIdentity, argument: me) else {
                throw StartError(description: "coap_context_set_psk2 failed (is DTLS supported by the linked libcoap?)")
            }
        }
        for listener in settings.dtlsListeners { try bind(listener, proto: COAP_PROTO_DTLS) }
        for listener in settings.plainListeners { try bind(listener, proto: COAP_PROTO_UDP) }
        coap_register_response_handler(context, bootstrapResponseHandler)
        coap_register_nack_handler(context, bootstrapNackHandler)
        coap_register_event_handler(context, bootstrapEventHandler)
        guard let uri = coap_new_str_const("bs", 2),
              let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else {
            throw StartError(description: "cannot create the /bs resource")
        }
        coap_register_handler(resource, COAP_REQUEST_POST, bootstrapRequestHandler)
        coap_add_resource(context, resource)
        running.withLock { $0 = true }
    }

    func bind(_ listener: LwM2MServerSettings.Listener, proto: coap_proto_t) throws {
        guard let context else { return }
        guard let parsed = listener.coapAddress() else {
            throw StartError(description: "bootstrap listener host '\(listener.host)' is not an IPv4 or IPv6 address")
        }
        var address = parsed.address
        let scheme = proto == COAP_PROTO_DTLS ? "coaps" : "coap"
        guard coap_new_endpoint(context, &address, proto) != nil else {
            throw StartError(description: "cannot listen on \(listener) (\(scheme), bootstrap): port in use or address not local")
        }
        // A site powering up at once sends its ClientHellos together: the kernel's default buffer
        // drops most of them, and each device then waits out its DTLS retransmission back-off.
        var granted = 0
        for fd in SocketTools.udpSockets(boundTo: listener.port, family: parsed.family) {
            granted = SocketTools.setReceiveBuffer(fd: fd, bytes: settings.receiveBufferBytes)
            listeners.insert(fd)
        }
        logger.info("bootstrap server listening", metadata: ["listener": "\(listener)", "scheme": "\(scheme)", "rcvbuf": "\(granted)"])
    }

    func requestStop() {
        stopRequested.withLock { $0 = true }
        wakePipe.wake()
    }

    /// Read batches before the loop's own bookkeeping runs again.
    static let batchesPerWakeup = 8
    /// How often the sessions' request deadlines are checked.
    static let tickInterval: Duration = .milliseconds(50)
    /// How often the loop detector's view is refreshed for `BootstrapServer.loops` (its windows expire).
    static let loopsRefreshInterval: Duration = .seconds(1)

    func runLoop() {
        guard let context else { return }
        let coapFD = coap_context_get_coap_fd(context)
        var fds = [pollfd(fd: coapFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)]
        while !stopRequested.withLock({ $0 }) {
            processDatagrams(context: context, epollFD: coapFD)
            startWaitingSessions()
            settleObservedDevices()
            tickWhenDue()
            publish()
            fds[0].revents = 0
            fds[1].revents = 0
            let timeout: Int32 = starting.isEmpty ? 50 : 0
            if poll(&fds, 2, timeout) > 0, fds[1].revents != 0 { wakePipe.drain() }
        }
        for endpoint in Array(active.keys) {
            perform(endpoint, active[endpoint]?.machine.cancel("the gateway is stopping") ?? [])
        }
        coap_free_context(context)
        self.context = nil
        publish(force: true)
        finish()
        running.withLock { $0 = false }
    }

    /// A site powering up at once sends its handshakes together: the waiting datagrams go to libcoap
    /// in batches (`EpollBatch`), one walk of its sessions per batch rather than per datagram.
    func processDatagrams(context: OpaquePointer, epollFD: Int32) {
        for _ in 0..<Self.batchesPerWakeup {
            guard let ready = batch.takeReady(epollFD: epollFD) else {
                coap_io_process(context, UInt32.max) // COAP_IO_NO_WAIT: no epoll_wait to batch with
                return
            }
            guard ready > 0 else { return }
            let events = batch.repeatEvents(ready: ready) { index in
                guard let fd = batch.readableDescriptor(at: index), listeners.contains(fd) else { return 1 }
                return queuePeek.peek(fd: fd, limit: batch.maxDatagramsPerEvent) { _, _ in }
            }
            coap_io_do_epoll(context, OpaquePointer(batch.events), events)
        }
    }

    func settleObservedDevices() {
        let settled = settledEndpoints.withLock { taken in defer { taken.removeAll() }; return taken }
        for endpoint in settled where loopDetector.settled(endpoint) {
            logger.info("bootstrap loop over: the device registered and is observed", metadata: ["endpoint": "\(endpoint)"])
        }
        if !settled.isEmpty { loopsChanged = true }
    }

    func tickWhenDue() {
        let now = clock.now
        if let next = nextTick, now < next { return }
        nextTick = now.advanced(by: Self.tickInterval)
        tick()
    }

    /// Hands the counters to other threads when they changed, the loop detector's view once a second.
    func publish(force: Bool = false) {
        if force || counters != publishedCounters {
            let snapshot = counters
            publishedCounters = snapshot
            sharedCounters.withLock { $0 = snapshot }
        }
        let now = clock.now
        if force || loopsChanged || nextLoopsRefresh.map({ now >= $0 }) ?? true {
            loopsChanged = false
            nextLoopsRefresh = now.advanced(by: Self.loopsRefreshInterval)
            let loops = loopDetector.loops(now: now)
            sharedLoops.withLock { $0 = loops }
        }
    }
}
