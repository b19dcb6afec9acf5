import GatewayCore
import CCoAP
import Foundation
import Logging

// Requests the server sends (Observe, downlink writes) and the answers to them, between libcoap
// and the core (CoAP thread).
extension CoAPServerEngine {
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
        for segment in path.split(separator: "/") {
            CoAPPDU.addOption(pdu, number: UInt16(COAP_OPTION_URI_PATH), value: Array(segment.utf8))
        }
        if let payload {
            var format = [UInt8](repeating: 0, count: 2)
            let formatLength = Int(coap_encode_var_safe(&format, 2, UInt32(settings.downlinkContentFormat)))
            CoAPPDU.addOption(pdu, number: UInt16(COAP_OPTION_CONTENT_FORMAT), value: Array(format.prefix(formatLength)))
            guard payload.withUnsafeBufferPointer({ coap_add_data(pdu, $0.count, $0.baseAddress) }) != 0 else {
                coap_delete_pdu(pdu)
                return nil
            }
        }
        // libcoap takes the ACK timeout when it queues the message: short for the Observe, the
        // platform's back-off for downlink writes (the core's `ConfirmableTimers` for each).
        coap_session_set_ack_timeout(session, Self.fixedPoint(observe ? settings.observeAckTimeout : settings.ackTimeout))
        if let target = traceTarget(session) { trace(pdu, "out", target: target) }
        guard coap_send(session, pdu) != COAP_INVALID_MID else { return nil }
        return CoAPPDU.tokenValue(token.prefix(length))
    }

    func drainCommands() {
        let work = commands.withLock { queue -> [Command] in
            let taken = queue
            queue.removeAll()
            return taken
        }
        for command in work {
            switch command {
            case .downlink(let downlink, let forwarded):
                perform(core.downlinkRequested(downlink, forwarded: forwarded, registrations: registrations))
            }
        }
    }

    /// The core's `.sendDownlink`: the write (or GET) leaves if the device's session is established.
    func sendDownlink(_ downlink: Downlink, path: String, peer: UInt64) {
        guard let session = core.session(peer: peer), coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED else {
            perform(core.downlinkNotSent(downlink))
            return
        }
        let code = downlink.read ? COAP_REQUEST_CODE_GET : settings.downlinkMethod == .put ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_POST
        guard let token = sendRequest(session: session, code: code, path: path, observe: false,
                                      payload: downlink.read ? nil : downlink.payload) else {
            perform(core.downlinkNotSent(downlink))
            return
        }
        core.downlinkSent(downlink, path: path, peer: peer, token: token, at: clock.now)
    }

    /// The core's `.sendObserve`: the GET with Observe on the data resource.
    func sendObserve(nodeId: String, path: String, peer: UInt64, registeredAt: Instant) {
        guard let session = core.session(peer: peer),
              let token = sendRequest(session: session, code: COAP_REQUEST_CODE_GET, path: path, observe: true, payload: nil)
        else { return }
        core.observeSent(nodeId: nodeId, peer: peer, token: token, registeredAt: registeredAt, at: clock.now)
    }

    // MARK: - Responses to what we sent

    func handleResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        let code = UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue)
        let known = core.responseReceived(peer: peerNumber(session), token: CoAPPDU.token(of: received), code: code,
                                          body: { CoAPPDU.payload(of: received) }, registrations: registrations,
                                          at: clock.now, wallTime: clock.wallTime(), into: &responseActions)
        // Only events and log lines come back here: nothing that re-enters libcoap.
        if !responseActions.isEmpty { perform(responseActions) }
        responseActions.removeAll(keepingCapacity: true)
        return known
    }

    func handleNack(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        guard let peer = existingPeerNumber(session) else { return }
        let result: DownlinkDeliveryResult = switch reason {
        case COAP_NACK_TOO_MANY_RETRIES: .timedOut
        case COAP_NACK_RST: .reset
        default: .notReachable
        }
        perform(core.requestFailed(peer: peer, token: CoAPPDU.token(of: sent), result: result))
    }
}
