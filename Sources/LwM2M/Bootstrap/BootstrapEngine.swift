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
    /// Sessions whose `POST /bs` was answered in this loop turn: their first request goes next.
    var starting: [String] = []
    var loopDetector = BootstrapLoopDetector<GatewayClock>()
    var counters = BootstrapCounters()
    let sharedCounters = Locked(BootstrapCounters())
    let sharedLoops = Locked<[String: Int]>([:])
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
            var spsk = coap_dtls_spsk_t()
            spsk.version = UInt8(COAP_DTLS_SPSK_SETUP_VERSION)
            spsk.validate_id_call_back = bootstrapValidatePSKIdentity
            spsk.id_call_back_arg = me
            guard coap_context_set_psk2(context, &spsk) != 0 else {
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
        guard var address = listener.coapAddress()?.address else {
            throw StartError(description: "bootstrap listener host '\(listener.host)' is not an IPv4 or IPv6 address")
        }
        let scheme = proto == COAP_PROTO_DTLS ? "coaps" : "coap"
        guard coap_new_endpoint(context, &address, proto) != nil else {
            throw StartError(description: "cannot listen on \(listener) (\(scheme), bootstrap): port in use or address not local")
        }
        logger.info("bootstrap server listening", metadata: ["listener": "\(listener)", "scheme": "\(scheme)"])
    }

    func requestStop() {
        stopRequested.withLock { $0 = true }
        wakePipe.wake()
    }

    func runLoop() {
        guard let context else { return }
        let coapFD = coap_context_get_coap_fd(context)
        var fds = [pollfd(fd: coapFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)]
        while !stopRequested.withLock({ $0 }) {
            _ = coap_io_process(context, UInt32.max) // COAP_IO_NO_WAIT
            startWaitingSessions()
            tick()
            publish()
            fds[0].revents = 0
            fds[1].revents = 0
            let timeout: Int32 = starting.isEmpty ? 200 : 0
            if poll(&fds, 2, timeout) > 0, fds[1].revents != 0 { wakePipe.drain() }
        }
        for endpoint in Array(active.keys) {
            perform(endpoint, active[endpoint]?.machine.cancel("the gateway is stopping") ?? [])
        }
        coap_free_context(context)
        self.context = nil
        publish()
        finish()
        running.withLock { $0 = false }
    }

    func publish() {
        let snapshot = counters
        sharedCounters.withLock { $0 = snapshot }
        let loops = loopDetector.loops(now: clock.now)
        sharedLoops.withLock { $0 = loops }
    }
}
