import GatewayCore
import CCoAP
import Foundation
import Logging

// The registration interface as libcoap hands it over: Register, Update, De-register requests
// read (block-wise bodies put together) and passed to the core (CoAP thread).
extension CoAPServerEngine {
    func handleRegister(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?, response: OpaquePointer) {
        let peer = peerNumber(session)
        core.sessionEstablished(peer: peer)
        guard let input = requestBody(session: session, request: request, path: "rd", query: CoAPPDU.text(of: query),
                                      response: response) else { return }
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: input.query, body: input.body)
        } catch {
            perform(core.registerRefused(error, address: address(of: session)), response: response)
            return
        }
        let device = parsed.endpoint.flatMap { directory.device(nodeId: $0) }
        perform(core.registerReceived(parsed, device: device, transport: transport(of: session), peer: peer,
                                      address: address(of: session), registrations: registrations, at: clock.now),
                response: response)
    }

    func handleUpdate(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?,
                      response: OpaquePointer) {
        guard let id = CoAPPDU.registrationId(of: request) else { reply(.notFound, response: response); return }
        guard let input = requestBody(session: session, request: request, path: "rd/" + id, query: CoAPPDU.text(of: query),
                                      response: response) else { return }
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: input.query, body: input.body)
        } catch {
            reply(.badRequest(error.description), response: response)
            return
        }
        perform(core.updateReceived(registrationId: id, parsed, transport: transport(of: session), peer: peerNumber(session),
                                    address: address(of: session), registrations: registrations, at: clock.now),
                response: response)
    }

    func handleDeregister(session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let id = CoAPPDU.registrationId(of: request) else { reply(.notFound, response: response); return }
        perform(core.deregisterReceived(registrationId: id, transport: transport(of: session), registrations: registrations,
                                        at: clock.now), response: response)
    }

    /// The query and body of a request; for a block-wise (Block1) one, the whole body once its last
    /// block is in. nil when the answer is already in `response`: 2.31 Continue for a block before
    /// the last, 4.08, 4.13 or 4.00. The last block's answer echoes its Block1 option.
    func requestBody(session: OpaquePointer, request: OpaquePointer, path: String, query: String,
                     response: OpaquePointer) -> (query: String, body: [UInt8])? {
        let body = CoAPPDU.payload(of: request)
        guard let value = CoAPPDU.optionValue(request, UInt16(COAP_OPTION_BLOCK1)) else { return (query, body) }
        guard let block = Block1Reassembly<Instant>.Block(optionValue: value) else {
            reply(.badRequest("malformed Block1 option"), response: response)
            return nil
        }
        let size1 = CoAPPDU.optionValue(request, UInt16(COAP_OPTION_SIZE1)).map { $0.prefix(4).reduce(0) { $0 << 8 | Int($1) } }
        let key = Block1Reassembly<Instant>.Key(peer: peerNumber(session), path: path)
        let outcome = core.blockwise.receive(block, payload: body, size1: size1,
                                             requestTag: CoAPPDU.optionValue(request, UInt16(COAP_OPTION_RTAG)),
                                             query: query, key: key, at: clock.now)
        switch outcome {
        case .next(let echo):
            core.counters.blocksReceived += 1
            CoAPPDU.addOption(response, number: UInt16(COAP_OPTION_BLOCK1), value: echo.optionValue)
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTINUE)
            return nil
        case .complete(let whole, let firstQuery, let last):
            core.counters.blocksReceived += 1
            CoAPPDU.addOption(response, number: UInt16(COAP_OPTION_BLOCK1), value: last.optionValue)
            return (query.isEmpty ? firstQuery : query, whole)
        case .tooLarge(let limit):
            core.counters.registrationsRefused += 1
            logRepeated(.warning, "lwm2m block-wise request refused: body too large",
                        metadata: ["limit": "\(limit)", "address": "\(address(of: session))"])
            CoAPPDU.addSize1(response, limit)
            reply(.requestTooLarge("request body exceeds \(limit) bytes"), response: response)
        case .incomplete:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_INCOMPLETE)
            CoAPPDU.addDiagnostic(response, "block \(block.number) does not follow the blocks received; start again at block 0")
        case .badRequest(let text):
            reply(.badRequest(text), response: response)
        }
        return nil
    }
}
