import CCoAP
import GatewayCore

// `edgegw trace nbiot IMEI`: the CoAP messages of a traced device, after DTLS decryption, as
// they pass the engine: requests from the device and our answers, our requests and the device's
// answers and notifications (CoAP thread). libcoap's own empty ACKs and retransmissions are not
// seen here. Off, one relaxed atomic load per message.
extension CoAPServerEngine {
    /// The IMEI a session's message belongs to when it is traced: the registration on that
    /// session, the Register's `ep=`, or the DTLS identity of a device not registered yet.
    func traceTarget(_ session: OpaquePointer, query: UnsafePointer<coap_string_t>? = nil) -> String? {
        guard let trace, trace.isOn else { return nil }
        let targets = trace.targets()
        if let peer = existingPeerNumber(session) {
            let registered = registrations.withLock { table in
                targets.first { table.registration(nodeId: $0)?.peer.rawValue == peer }
            }
            if let registered { return registered }
        }
        if let query {
            for pair in CoAPPDU.text(of: query).split(separator: "&") where pair.hasPrefix("ep=") {
                let endpoint = String(pair.dropFirst(3))
                if targets.contains(endpoint) { return endpoint }
            }
        }
        if let identity = CoAPSessionFacts.pskIdentity(session), targets.contains(identity) { return identity }
        return nil
    }

    /// `in`: the device sent it; `out`: we send it.
    func trace(_ pdu: OpaquePointer, _ direction: String, target: String) {
        guard let trace else { return }
        let message = CoAPPDU.traceMessage(of: pdu)
        trace.emit(TraceRecord(time: clock.wallTime(), target: target, direction: direction, hex: message.encode().traceHex,
                               fields: message.fields(fromDevice: direction == "in")))
    }
}

extension CoAPPDU {
    /// A PDU's parts, read through libcoap's accessors.
    static func traceMessage(of pdu: OpaquePointer) -> CoAPTraceMessage {
        let token = coap_pdu_get_token(pdu)
        var options: [CoAPTraceMessage.Option] = []
        var iterator = coap_opt_iterator_t()
        if coap_option_iterator_init(pdu, &iterator, nil) != nil {
            while let option = coap_option_next(&iterator) {
                let length = Int(coap_opt_length(option))
                let value = length > 0 ? coap_opt_value(option).map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? [] : []
                options.append(.init(number: iterator.number, value: value))
            }
        }
        return CoAPTraceMessage(type: UInt8(truncatingIfNeeded: coap_pdu_get_type(pdu).rawValue),
                                code: UInt8(truncatingIfNeeded: coap_pdu_get_code(pdu).rawValue),
                                messageId: UInt16(truncatingIfNeeded: coap_pdu_get_mid(pdu)),
                                token: token.s.map { Array(UnsafeBufferPointer(start: $0, count: token.length)) } ?? [],
                                options: options, payload: payload(of: pdu))
    }
}
