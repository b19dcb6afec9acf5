import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// The registration interface: Register, Update, De-register, and the Observe that follows (CoAP thread).
extension CoAPServerEngine {
    // MARK: - Registration interface

    func handleRegister(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?, response: OpaquePointer) {
        let peer = peerNumber(session)
        noteEstablished(peer, session)
        guard let input = requestBody(session: session, request: request, path: "rd", query: Self.text(of: query),
                                      response: response) else { return }
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: input.query, body: input.body)
        } catch {
            counters.registrationsRefused += 1
            logRepeated(.warning, "lwm2m register refused", metadata: ["reason": "\(error)", "address": "\(address(of: session))"])
            if case .objectListTooLong = error {
                addSize1(response, RegistrationRequest.maxObjectListBytes)
                reply(.requestTooLarge(error.description), response: response)
            } else {
                reply(.badRequest(error.description), response: response)
            }
            return
        }
        let device = parsed.endpoint.flatMap { directory.device(nodeId: $0) }
        let (transport, address, now) = (transport(of: session), address(of: session), clock.now)
        let actions = registrations.withLock { $0.register(parsed, device: device, transport: transport, peer: PeerID(peer),
                                                           address: address, at: now) }
        apply(actions, response: response)
    }

    func handleUpdate(session: OpaquePointer, request: OpaquePointer, query: UnsafePointer<coap_string_t>?,
                      response: OpaquePointer) {
        guard let id = registrationId(of: request) else { reply(.notFound, response: response); return }
        guard let input = requestBody(session: session, request: request, path: "rd/" + id, query: Self.text(of: query),
                                      response: response) else { return }
        let parsed: RegistrationRequest
        do {
            parsed = try RegistrationRequest.parse(query: input.query, body: input.body)
        } catch {
            reply(.badRequest(error.description), response: response)
            return
        }
        let (transport, peer, address, now) = (transport(of: session), PeerID(peerNumber(session)), address(of: session), clock.now)
        let actions = registrations.withLock {
            $0.update(registrationId: id, lifetime: parsed.lifetime, binding: parsed.binding, objectLinks: parsed.objectLinks,
                      transport: transport, peer: peer, address: address, at: now)
        }
        apply(actions, response: response)
    }

    static func text(of query: UnsafePointer<coap_string_t>?) -> String {
        query.map { string in
            string.pointee.s.map { String(decoding: UnsafeBufferPointer(start: $0, count: string.pointee.length), as: UTF8.self) } ?? ""
        } ?? ""
    }

    /// The query and body of a request; for a block-wise (Block1) one, the whole body once its last
    /// block is in. nil when the answer is already in `response`: 2.31 Continue for a block before
    /// the last, 4.08, 4.13 or 4.00. The last block's answer echoes its Block1 option.
    func requestBody(session: OpaquePointer, request: OpaquePointer, path: String, query: String,
                     response: OpaquePointer) -> (query: String, body: [UInt8])? {
        let body = payload(of: request)
        guard let value = optionValue(request, UInt16(COAP_OPTION_BLOCK1)) else { return (query, body) }
        guard let block = Block1Reassembly<Instant>.Block(optionValue: value) else {
            reply(.badRequest("malformed Block1 option"), response: response)
            return nil
        }
        let size1 = optionValue(request, UInt16(COAP_OPTION_SIZE1)).map { $0.prefix(4).reduce(0) { $0 << 8 | Int($1) } }
        let key = Block1Reassembly<Instant>.Key(peer: peerNumber(session), path: path)
        let outcome = blockwise.receive(block, payload: body, size1: size1, requestTag: optionValue(request, UInt16(COAP_OPTION_RTAG)),
                                        query: query, key: key, at: clock.now)
        switch outcome {
        case .next(let echo):
            counters.blocksReceived += 1
            addOption(response, number: UInt16(COAP_OPTION_BLOCK1), value: echo.optionValue)
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTINUE)
            return nil
        case .complete(let whole, let firstQuery, let last):
            counters.blocksReceived += 1
            addOption(response, number: UInt16(COAP_OPTION_BLOCK1), value: last.optionValue)
            return (query.isEmpty ? firstQuery : query, whole)
        case .tooLarge(let limit):
            counters.registrationsRefused += 1
            logRepeated(.warning, "lwm2m block-wise request refused: body too large",
                        metadata: ["limit": "\(limit)", "address": "\(address(of: session))"])
            addSize1(response, limit)
            reply(.requestTooLarge("request body exceeds \(limit) bytes"), response: response)
        case .incomplete:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_INCOMPLETE)
            addDiagnostic(response, "block \(block.number) does not follow the blocks received; start again at block 0")
        case .badRequest(let text):
            reply(.badRequest(text), response: response)
        }
        return nil
    }

    /// An option's value, or nil when the request does not carry it.
    func optionValue(_ pdu: OpaquePointer, _ number: UInt16) -> [UInt8]? {
        var iterator = coap_opt_iterator_t()
        guard let option = coap_check_option(pdu, number, &iterator) else { return nil }
        let length = Int(coap_opt_length(option))
        guard length > 0, let value = coap_opt_value(option) else { return [] }
        return Array(UnsafeBufferPointer(start: value, count: length))
    }

    /// Size1 in a 4.13: the largest body the server takes (RFC 7959 §4).
    func addSize1(_ pdu: OpaquePointer, _ bytes: Int) {
        var value = [UInt8](repeating: 0, count: 4)
        let length = Int(coap_encode_var_safe(&value, 4, UInt32(clamping: bytes)))
        addOption(pdu, number: UInt16(COAP_OPTION_SIZE1), value: Array(value.prefix(length)))
    }

    func handleDeregister(session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let id = registrationId(of: request) else { reply(.notFound, response: response); return }
        let (transport, now) = (transport(of: session), clock.now)
        apply(registrations.withLock { $0.deregister(registrationId: id, transport: transport, at: now) }, response: response)
    }

    /// The `<id>` of a request to `rd/<id>`: the only paths besides `rd` a device may use.
    func registrationId(of request: OpaquePointer) -> String? {
        guard let uri = coap_get_uri_path(request) else { return nil }
        defer { coap_delete_string(uri) }
        guard let bytes = uri.pointee.s else { return nil }
        let path = String(decoding: UnsafeBufferPointer(start: bytes, count: uri.pointee.length), as: UTF8.self)
        guard path.hasPrefix("rd/") else { return nil }
        let id = path.dropFirst(3)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    func payload(of pdu: OpaquePointer) -> [UInt8] {
        var length = 0
        var data: UnsafePointer<UInt8>?
        guard coap_get_data(pdu, &length, &data) != 0, let data, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    func apply(_ actions: [RegistrationTable<Instant>.Action], response: OpaquePointer?) {
        for action in actions {
            switch action {
            case .reply(let answer):
                if let response { reply(answer, response: response) }
            case .observe:
                afterReply.append(action)
            case .peerReplaced(let old, let nodeId):
                if let key = observeToken[nodeId], key.peer == old.rawValue {
                    pending[key] = nil
                    observeToken[nodeId] = nil
                }
            case .registered(let nodeId, _):
                counters.registrations += 1
                if let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) {
                    emit(.registered(RegistrationInfo(registration)))
                    logger.info("lwm2m registered", metadata: ["node": "\(nodeId)", "address": "\(registration.address)"])
                }
            case .updated(let nodeId):
                counters.updates += 1
                emit(.updated(nodeId: nodeId))
            case .offline(let nodeId, let reason):
                if reason == .deregistered { counters.deregistrations += 1 } else { counters.expirations += 1 }
                if let key = observeToken.removeValue(forKey: nodeId) { pending[key] = nil }
                logger.info("lwm2m offline", metadata: ["node": "\(nodeId)", "reason": "\(reason.rawValue)"])
                emit(.offline(nodeId: nodeId, reason: reason))
            }
        }
        if actions.contains(where: { if case .reply(.forbidden) = $0 { true } else if case .reply(.badRequest) = $0 { true } else { false } }) {
            counters.registrationsRefused += 1
            for case .reply(let answer) in actions { logRepeated(.warning, "lwm2m register refused", metadata: ["reason": "\(answer)"]) }
        }
    }

    func reply(_ answer: RegistrationTable<Instant>.Reply, response: OpaquePointer) {
        switch answer {
        case .created(let id):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED)
            addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array("rd".utf8))
            addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array(id.utf8))
        case .changed:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
        case .deleted:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED)
        case .badRequest(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST)
            addDiagnostic(response, text)
        case .forbidden(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_FORBIDDEN)
            addDiagnostic(response, text)
        case .notFound:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
        case .requestTooLarge(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE)
            addDiagnostic(response, text)
        }
    }

    func addOption(_ pdu: OpaquePointer, number: UInt16, value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    func addDiagnostic(_ pdu: OpaquePointer, _ text: String) {
        let bytes = Array(text.utf8.prefix(120))
        _ = bytes.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) }
    }

    /// Runs the work queued behind a reply: the Observe GET (the 513 budget).
    func flushAfterReply() {
        let work = afterReply
        afterReply.removeAll(keepingCapacity: true)
        for action in work {
            switch action {
            case .observe(let nodeId, _, let path, let peer):
                guard let session = sessions[peer.rawValue],
                      let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) else { continue }
                if let old = observeToken.removeValue(forKey: nodeId) { pending[old] = nil }
                if let token = sendRequest(session: session, code: COAP_REQUEST_CODE_GET, path: path, observe: true, payload: nil) {
                    let key = TokenKey(peer: peer.rawValue, token: token)
                    pending[key] = .observe(nodeId: nodeId, registeredAt: registration.registeredAt)
                    observeToken[nodeId] = key
                    counters.observesSent += 1
                }
            default:
                break
            }
        }
    }

    /// The first shard ends the registrations whose lifetime passed, for all of them.
    func expireRegistrations() {
        guard shard == 0 else { return }
        let now = clock.now
        let expired = registrations.withLock { table -> [RegistrationTable<Instant>.Action] in
            guard let next = table.nextExpiry, next <= now else { return [] }
            return table.expire(at: now)
        }
        if !expired.isEmpty { apply(expired, response: nil) }
    }
}
