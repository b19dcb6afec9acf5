import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// libcoap's sessions as the core's peers: session events, PSK keys, the handshake scan, and the
// same-address reconnect found while peeking at the listeners (CoAP thread).
extension CoAPServerEngine {
    /// The session's peer number: kept in the session's app data from the first time it is seen.
    func peerNumber(_ session: OpaquePointer) -> UInt64 {
        if let data = coap_session_get_app_data(session) { return UInt64(UInt(bitPattern: data)) }
        let number = core.sessionOpened(session)
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(number)))
        return number
    }

    /// The peer number of a session that has one.
    func existingPeerNumber(_ session: OpaquePointer) -> UInt64? {
        coap_session_get_app_data(session).map { UInt64(UInt(bitPattern: $0)) }
    }

    func address(of session: OpaquePointer) -> String { CoAPSessionFacts.remoteAddress(session) }

    func transport(of session: OpaquePointer) -> Transport {
        guard coap_session_get_proto(session) == COAP_PROTO_DTLS else { return .udp }
        return .dtls(identity: CoAPSessionFacts.pskIdentity(session) ?? "")
    }

    func pskKey(identity: [UInt8], session: OpaquePointer?) -> UnsafePointer<coap_bin_const_t>? {
        let name = String(decoding: identity, as: UTF8.self)
        guard let key = directory.pskKey(identity: name), PSKHandout.accepts(key) else {
            perform([core.pskIdentityRefused(name)])
            return nil
        }
        core.pskIdentityAccepted(peer: session.map(peerNumber))
        return psk.hand(key)
    }

    func handleEvent(session: OpaquePointer, event: coap_event_t) {
        switch event {
        case COAP_EVENT_SERVER_SESSION_NEW:
            let peer = peerNumber(session)
            coap_session_set_ack_timeout(session, Self.fixedPoint(settings.ackTimeout))
            coap_session_set_ack_random_factor(session, Self.fixedPoint(settings.ackRandomFactor))
            coap_session_set_max_retransmit(session, UInt16(clamping: settings.maxRetransmit))
            // libcoap reads 1,472 bytes per datagram but parses no more than the MTU (1,152 by
            // default) and answers a longer request with RST: take all it reads.
            coap_session_set_mtu(session, UInt32(Self.sessionMTU))
            if coap_session_get_proto(session) == COAP_PROTO_DTLS { core.dtlsSessionStarted(peer: peer, address: address(of: session)) }
        case COAP_EVENT_DTLS_CONNECTED:
            core.sessionEstablished(peer: peerNumber(session))
        case COAP_EVENT_DTLS_CLOSED, COAP_EVENT_DTLS_ERROR:
            // A peer may close before the periodic handshake scan saw it established.
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { core.sessionEstablished(peer: peerNumber(session)) }
        case COAP_EVENT_SERVER_SESSION_DEL:
            guard let peer = existingPeerNumber(session) else { return }
            perform(core.sessionEnded(peer: peer, address: address(of: session),
                                      established: coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED))
        default:
            break
        }
    }

    /// libcoap 4.3.1 raises no DTLS_CONNECTED for server sessions: look at the sessions still in handshake.
    func checkHandshakes() {
        guard core.handshakeScanDue(at: clock.now) else { return }
        for peer in core.handshaking {
            guard let session = core.session(peer: peer) else { core.handshaking.remove(peer); continue }
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { core.sessionEstablished(peer: peer) }
        }
    }

    static func phase(of session: OpaquePointer) -> Core.SessionPhase {
        switch coap_session_get_state(session) {
        case COAP_SESSION_STATE_ESTABLISHED: .established
        case COAP_SESSION_STATE_HANDSHAKE: .handshake
        default: .other
        }
    }

    static func fixedPoint(_ value: Double) -> coap_fixed_point_t {
        let integer = max(0, Int(value))
        let fraction = Int(((value - Double(integer)) * 1000).rounded())
        return coap_fixed_point_t(integer_part: UInt16(clamping: integer), fractional_part: UInt16(clamping: min(999, fraction)))
    }

    // MARK: - Same-address reconnect

    /// A datagram peeked at a DTLS listener: if it is a ClientHello that starts over at an address
    /// with a session, the core drops that session (see `CoAPServerCore.clientHelloReceived`).
    /// Returns whether a session was dropped.
    func checkForReconnect(datagram: UnsafeRawBufferPointer, source: UnsafePointer<sockaddr>) -> Bool {
        guard DTLSRecord.isClientHello(datagram) else { return false }
        let actions = core.clientHelloReceived(from: SocketTools.describe(sockaddr: source),
                                               startsHandshake: DTLSRecord.startsHandshake(datagram), phase: Self.phase(of:))
        guard !actions.isEmpty else { return false }
        perform(actions)
        return true
    }

    /// Ends a session the core dropped. libcoap ends a DTLS session with an alert (close_notify) to
    /// its peer. That address now belongs to a new handshake, and a peer waiting for
    /// HelloVerifyRequest takes an unencrypted alert as the end of its own handshake (libcoap's
    /// GnuTLS client does). So the old session's peer address becomes our own listener's: the alert
    /// comes back to us and is dropped (libcoap ignores alerts from addresses without a session).
    /// libcoap 4.3.1 offers no way to close a session without that alert; its session table is
    /// keyed apart from this address.
    func dropSession(_ session: OpaquePointer) {
        if let local = coap_session_get_addr_local(session), let remote = coap_session_get_addr_remote(session) {
            UnsafeMutablePointer(mutating: remote).pointee = local.pointee
        }
        coap_session_disconnected(session, COAP_NACK_NOT_DELIVERABLE)
    }
}
