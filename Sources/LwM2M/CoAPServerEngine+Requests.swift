import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// Requests the server sends (Observe, downlink writes) and the answers to them (CoAP thread).
extension CoAPServerEngine {
    // MARK: - Requests we send (Observe, downlink)

    /// Sends a confirmable request; returns its token, or nil if libcoap refused it.
    func sendRequest(session: OpaquePointer, code: coap_pdu_code_t, path: String, observe: Bool,
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

    static func tokenValue<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    func drainCommands() {
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

    func sendDownlink(_ downlink: Downlink, forwarded: Bool) {
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
