import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// Setting up the libcoap context and binding the listeners: one socket per listener, or several
// per listener and CoAP thread moved onto one SO_REUSEPORT port (`ReusePortTakeover`).
extension CoAPServerEngine {
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
            guard PSKHandout.serve(on: context, validate: lwm2mValidatePSKIdentity, argument: me) else {
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
        guard let parsed = listener.coapAddress() else {
            throw StartError(description: "listener host '\(listener.host)' is not an IPv4 or IPv6 address")
        }
        var address = parsed.address
        let family = parsed.family
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
}
