import Bootstrap
import CCoAP
import Foundation
import GatewayCore
import Logging

// The device's `POST /bs`, the requests its sequence sends, and their answers (CoAP thread).
extension BootstrapEngine {
    func bootstrapKey(identity: [UInt8]) -> UnsafePointer<coap_bin_const_t>? {
        let name = String(decoding: identity, as: UTF8.self)
        guard let key = provider.bootstrapKey(identity: name), PSKHandout.accepts(key) else {
            counters.unknownIdentities += 1
            logger.warning("bootstrap handshake refused: no bootstrap key for the identity", metadata: ["identity": "\(name)"])
            return nil
        }
        return psk.hand(key)
    }

    /// `POST /bs?ep=…`: 2.04 and the sequence starts next turn; 4.00 without `ep`; 4.03 when the
    /// gateway has nothing to write to this device.
    func handleBootstrapRequest(session: OpaquePointer, query: UnsafePointer<coap_string_t>?, response: OpaquePointer) {
        let parameters = CoAPPDU.text(of: query).split(separator: "&")
        guard let endpoint = parameters.first(where: { $0.hasPrefix("ep=") }).map({ String($0.dropFirst(3)) }), !endpoint.isEmpty else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST)
            CoAPPDU.addDiagnostic(response, "ep= is required")
            count(.unauthorized)
            logger.warning("bootstrap request without ep refused", metadata: ["address": "\(address(of: session))"])
            return
        }
        let identity = CoAPSessionFacts.pskIdentity(session)
        switch provider.plan(endpoint: endpoint, identity: identity, localHost: localHost(of: session)) {
        case .failure(let refusal):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_FORBIDDEN)
            CoAPPDU.addDiagnostic(response, refusal.reason)
            count(refusal.failure)
            report(.failed(endpoint: endpoint, refusal.failure, refusal.reason))
            logger.warning("bootstrap refused: \(refusal.reason)", metadata: ["endpoint": "\(endpoint)", "cause": "\(refusal.failure.rawValue)"])
        case .success(let plan):
            if active[endpoint] != nil {
                perform(endpoint, active[endpoint]?.machine.cancel("the device sent POST /bs again") ?? [])
            }
            switch loopDetector.bootstrapStarted(endpoint, now: clock.now) {
            case .loopStarted(let count):
                loopsChanged = true
                counters.loopsDetected += 1
                report(.loop(endpoint: endpoint, count: count))
                logger.warning("bootstrap loop: the device bootstraps again and again (is it observed after it registers?)",
                               metadata: ["endpoint": "\(endpoint)", "bootstraps": "\(count)"])
            case .looping:
                loopsChanged = true
            case .normal:
                break
            }
            if let other = endpointBySession[session], other != endpoint {
                perform(other, active[other]?.machine.cancel("the session started a bootstrap for \(endpoint)") ?? [])
            }
            coap_session_reference(session)
            // LwM2M 1.1: pct= names the content format the device prefers for the writes.
            let format = WriteFormat(preferredContentFormat: parameters.first { $0.hasPrefix("pct=") }?.dropFirst(4))
            active[endpoint] = Active(session: session, machine: Session(endpoint: endpoint, plan: plan, format: format,
                                                                         discover: settings.discover,
                                                                         requestTimeout: settings.requestTimeout))
            endpointBySession[session] = endpoint
            starting.append(endpoint)
            counters.started += 1
            report(.started(endpoint: endpoint))
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
            wakePipe.wake()
        }
    }

    func startWaitingSessions() {
        let endpoints = starting
        starting.removeAll()
        for endpoint in endpoints {
            perform(endpoint, active[endpoint]?.machine.start(now: clock.now) ?? [])
        }
    }

    func tick() {
        let now = clock.now
        for endpoint in Array(active.keys) {
            perform(endpoint, active[endpoint]?.machine.tick(now: now) ?? [])
        }
    }

    func perform(_ endpoint: String, _ actions: [Session.Action]) {
        for action in actions {
            switch action {
            case .send(let request):
                guard let entry = active[endpoint] else { return }
                if let token = send(request, on: entry.session) {
                    active[endpoint]?.token = token
                } else {
                    perform(endpoint, active[endpoint]?.machine.requestLost(.requestFailed, "libcoap refused to send it") ?? [])
                }
            case .finished:
                end(endpoint)
                counters.finished += 1
                report(.finished(endpoint: endpoint))
                logger.info("bootstrap finished: the device registers with the written account", metadata: ["endpoint": "\(endpoint)"])
            case .failed(let failure, let detail):
                end(endpoint)
                count(failure)
                report(.failed(endpoint: endpoint, failure, detail))
                logger.warning("bootstrap failed: \(detail)", metadata: ["endpoint": "\(endpoint)", "cause": "\(failure.rawValue)"])
            }
        }
    }

    func end(_ endpoint: String) {
        guard let entry = active.removeValue(forKey: endpoint) else { return }
        if endpointBySession[entry.session] == endpoint { endpointBySession.removeValue(forKey: entry.session) }
        coap_session_release(entry.session)
    }

    /// Counters first, so whoever acts on the event reads counters that include it.
    func report(_ event: BootstrapServerEvent) {
        publish()
        emit(event)
    }

    func count(_ failure: BootstrapFailure) { counters.failures[failure, default: 0] += 1 }

    func send(_ request: BootstrapRequest, on session: OpaquePointer) -> UInt64? {
        let code: coap_pdu_code_t
        switch request.method {
        case .get: code = COAP_REQUEST_CODE_GET
        case .put: code = COAP_REQUEST_CODE_PUT
        case .delete: code = COAP_REQUEST_CODE_DELETE
        case .post: code = COAP_REQUEST_CODE_POST
        }
        let mid = coap_mid_t(coap_new_message_id(session))
        guard let pdu = coap_pdu_init(COAP_MESSAGE_CON, code, mid, coap_session_max_pdu_size(session)) else { return nil }
        var token = [UInt8](repeating: 0, count: 8)
        var length = 0
        coap_session_new_token(session, &length, &token)
        guard coap_add_token(pdu, length, token) != 0 else { coap_delete_pdu(pdu); return nil }
        for segment in request.path.split(separator: "/") {
            CoAPPDU.addOption(pdu, number: UInt16(COAP_OPTION_URI_PATH), value: Array(segment.utf8))
        }
        if let format = request.contentFormat { CoAPPDU.addOption(pdu, number: UInt16(COAP_OPTION_CONTENT_FORMAT), value: Self.uint(format)) }
        if let accept = request.accept { CoAPPDU.addOption(pdu, number: UInt16(COAP_OPTION_ACCEPT), value: Self.uint(accept)) }
        if !request.payload.isEmpty {
            guard request.payload.withUnsafeBufferPointer({ coap_add_data(pdu, $0.count, $0.baseAddress) }) != 0 else {
                coap_delete_pdu(pdu)
                return nil
            }
        }
        guard coap_send(session, pdu) != COAP_INVALID_MID else { return nil }
        return CoAPPDU.tokenValue(token.prefix(length))
    }

    static func uint(_ value: UInt16) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 2)
        let length = Int(coap_encode_var_safe(&bytes, 2, UInt32(value)))
        return Array(bytes.prefix(length))
    }

    func endpoint(of session: OpaquePointer, token: UInt64? = nil) -> String? {
        guard let endpoint = endpointBySession[session], let entry = active[endpoint],
              token == nil || entry.token == token else { return nil }
        return endpoint
    }

    func handleResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        let token = CoAPPDU.token(of: received)
        guard let endpoint = endpoint(of: session, token: token) else { return false }
        active[endpoint]?.token = nil
        let code = CoAPCode(byte: UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue))
        perform(endpoint, active[endpoint]?.machine.received(code, payload: CoAPPDU.payload(of: received), now: clock.now) ?? [])
        return true
    }

    func handleNack(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        guard let endpoint = endpoint(of: session, token: CoAPPDU.token(of: sent)) else { return }
        let failure: BootstrapFailure = reason == COAP_NACK_TOO_MANY_RETRIES ? .timeout : .requestFailed
        perform(endpoint, active[endpoint]?.machine.requestLost(failure, "no answer (CoAP \(reason.rawValue))") ?? [])
    }

    func handleEvent(session: OpaquePointer, event: coap_event_t) {
        guard event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_SESSION_CLOSED,
              let endpoint = endpoint(of: session) else { return }
        perform(endpoint, active[endpoint]?.machine.requestLost(.requestFailed, "the device's session closed") ?? [])
    }

    func address(of session: OpaquePointer) -> String { CoAPSessionFacts.remoteAddress(session) }

    /// The host part of the address the device reached us on.
    func localHost(of session: OpaquePointer) -> String {
        guard let local = coap_session_get_addr_local(session) else { return "127.0.0.1" }
        let text = withUnsafePointer(to: local.pointee.addr.sa) { SocketTools.describe(sockaddr: $0) }
        // "1.2.3.4:5684" or "[::1]:5684"
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            // An IPv4 device on a "::" listener: its address as the device knows it.
            return host.lowercased().hasPrefix("::ffff:") && host.contains(".") ? String(host.dropFirst(7)) : host
        }
        return text.split(separator: ":").first.map(String.init) ?? text
    }
}
