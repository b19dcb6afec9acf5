import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// Sessions, handshakes and PSK keys (CoAP thread).
extension CoAPServerEngine {
    // MARK: - Sessions

    /// Peer numbers carry their shard in the top 16 bits.
    static func firstPeer(shard: Int) -> UInt64 { UInt64(shard) << 48 | 1 }
    static func shard(ofPeer peer: UInt64) -> Int { Int(peer >> 48) }

    func peerNumber(_ session: OpaquePointer) -> UInt64 {
        if let data = coap_session_get_app_data(session) { return UInt64(UInt(bitPattern: data)) }
        let number = nextPeer
        nextPeer += 1
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(number)))
        sessions[number] = session
        return number
    }

    func address(of session: OpaquePointer) -> String {
        guard let remote = coap_session_get_addr_remote(session) else { return "?" }
        return withUnsafePointer(to: remote.pointee.addr.sa) { SocketTools.describe(sockaddr: $0) }
    }

    func transport(of session: OpaquePointer) -> Transport {
        guard coap_session_get_proto(session) == COAP_PROTO_DTLS else { return .udp }
        // On plain UDP the identity is empty-not-NULL, hence the protocol check first.
        guard let identity = coap_session_get_psk_identity(session), let bytes = identity.pointee.s else {
            return .dtls(identity: "")
        }
        return .dtls(identity: String(decoding: UnsafeBufferPointer(start: bytes, count: identity.pointee.length), as: UTF8.self))
    }

    func forgetSession(_ session: OpaquePointer) {
        guard let data = coap_session_get_app_data(session) else { return }
        let number = UInt64(UInt(bitPattern: data))
        sessions[number] = nil
        handshaking.remove(number)
        for (key, kind) in pending.removeAll(peer: number) {
            if case .observe(let nodeId, _) = kind, observeToken[nodeId] == key { observeToken[nodeId] = nil }
        }
        blockwise.removeAll(peer: number)
        let address = address(of: session)
        if dtlsSessionByAddress[address] == session { dtlsSessionByAddress[address] = nil }
    }

    func pskKey(identity: [UInt8], session: OpaquePointer?) -> UnsafePointer<coap_bin_const_t>? {
        let name = String(decoding: identity, as: UTF8.self)
        guard let key = directory.pskKey(identity: name), !key.isEmpty, key.count <= Self.maxPSKBytes else {
            counters.unknownIdentities += 1
            logRepeated(.warning, "lwm2m DTLS handshake refused: unknown PSK identity", metadata: [
                "identity": "\(String(name.prefix(64).unicodeScalars.map { (0x21...0x7E).contains($0.value) ? Character($0) : "?" }))",
                "refused_total_this_thread": "\(counters.unknownIdentities)",
            ])
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
            // libcoap reads 1,472 bytes per datagram but parses no more than the MTU (1,152 by
            // default) and answers a longer request with RST: take all it reads.
            coap_session_set_mtu(session, UInt32(Self.sessionMTU))
            if coap_session_get_proto(session) == COAP_PROTO_DTLS { dtlsSessionByAddress[address(of: session)] = session }
        case COAP_EVENT_DTLS_CONNECTED:
            noteEstablished(peerNumber(session), session)
        case COAP_EVENT_DTLS_CLOSED, COAP_EVENT_DTLS_ERROR:
            // A peer may close before the periodic handshake scan saw it established.
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { noteEstablished(peerNumber(session), session) }
        case COAP_EVENT_SERVER_SESSION_DEL:
            if coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED { noteEstablished(peerNumber(session), session) }
            if let data = coap_session_get_app_data(session), handshaking.contains(UInt64(UInt(bitPattern: data))) {
                counters.handshakesFailed += 1
                logRepeated(.warning, "lwm2m DTLS handshake did not complete (wrong key or lost peer)",
                            metadata: ["address": "\(address(of: session))"])
            }
            forgetSession(session)
        default:
            break
        }
    }

    /// libcoap 4.3.1 raises no DTLS_CONNECTED for server sessions: look at the sessions still in handshake.
    func checkHandshakes() {
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

    func noteEstablished(_ number: UInt64, _ session: OpaquePointer) {
        guard handshaking.remove(number) != nil else { return }
        counters.handshakesCompleted += 1
    }

    static func fixedPoint(_ value: Double) -> coap_fixed_point_t {
        let integer = max(0, Int(value))
        let fraction = Int(((value - Double(integer)) * 1000).rounded())
        return coap_fixed_point_t(integer_part: UInt16(clamping: integer), fractional_part: UInt16(clamping: min(999, fraction)))
    }
}
