import CCoAP
import Foundation
import LwM2MContent
#if canImport(Glibc)
import Glibc
#endif

// Client-initiated bootstrap of a simulated module (OMA-TS-LightweightM2M-V1_0 §5.2; CoAP thread
// only): a DTLS session to the bootstrap server with the factory's bootstrap PSK, `POST /bs?ep=`,
// then the server's Discover, Deletes, Writes of the Security and Server objects (TLV, or SenML-JSON
// or SenML-CBOR, whichever Content-Format arrives) and Bootstrap-Finish, answered as a module does;
// after Finish the module drops that session and registers with the written account (URI,
// identity, key).

extension NBIoTDeviceSimulator {
    /// The bootstrap-interface resources: `/` (Discover), the Security and Server objects and
    /// their first instances (Delete, Write), `/bs` (Finish).
    static let bootstrapPaths = ["", "0", "1", "0/0", "0/1", "0/2", "1/0", "1/1", "bs"]

    func addBootstrapResources() {
        guard let context else { return }
        for path in Self.bootstrapPaths {
            let bytes = Array(path.utf8)
            let uri = bytes.withUnsafeBufferPointer { coap_new_str_const($0.baseAddress, $0.count) }
            guard let uri, let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else { continue }
            for method in [COAP_REQUEST_GET, COAP_REQUEST_PUT, COAP_REQUEST_POST, COAP_REQUEST_DELETE] {
                coap_register_handler(resource, method, simulatorBootstrapHandler)
            }
            coap_add_resource(context, resource)
        }
    }

    func startBootstrap(_ index: Int) {
        guard let context, let state = state(index), let account = state.device.bootstrap else { return }
        if let old = state.bootstrapSession { coap_session_release(old) }
        var address = coap_address_t()
        coap_address_init(&address)
        address.addr.sin.sin_family = sa_family_t(AF_INET)
        address.addr.sin.sin_port = account.port.bigEndian
        inet_pton(AF_INET, server.host, &address.addr.sin.sin_addr)
        address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let session = Self.pskSession(context, local: nil, remote: &address, identity: account.identity ?? state.device.endpoint,
                                       key: account.psk)
        guard let session else {
            continuation.yield(.failed(device: index, what: "bootstrap session"))
            return
        }
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(index + 1)))
        state.bootstrapSession = session
        state.writtenSecurity = [:]
        guard let pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_mid_t(coap_new_message_id(session)),
                                      coap_session_max_pdu_size(session)) else { return }
        var token = [UInt8](repeating: 0, count: 8)
        var length = 0
        coap_session_new_token(session, &length, &token)
        _ = coap_add_token(pdu, length, token)
        add(pdu, UInt16(COAP_OPTION_URI_PATH), Array("bs".utf8))
        add(pdu, UInt16(COAP_OPTION_URI_QUERY), Array("ep=\(state.device.endpoint)".utf8))
        if let format = account.preferredFormat { add(pdu, UInt16(COAP_OPTION_URI_QUERY), Array("pct=\(format)".utf8)) }
        state.pendingTokens[Self.tokenValue(token.prefix(length))] = "bootstrap"
        _ = coap_send(session, pdu)
    }

    /// A request of the bootstrap server on the module's bootstrap session.
    func handleBootstrapRequest(resource: OpaquePointer, session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let index = index(of: session), let state = state(index), state.bootstrapSession == session else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
            return
        }
        let path = uriPath(of: resource)
        let code = coap_pdu_get_code(request)
        var length = 0
        var data: UnsafePointer<UInt8>?
        var payload: [UInt8] = []
        if coap_get_data(request, &length, &data) != 0, let data { payload = Array(UnsafeBufferPointer(start: data, count: length)) }
        let method: String
        var answer = COAP_RESPONSE_CODE_CHANGED
        switch code {
        case COAP_REQUEST_CODE_GET:
            method = "GET"
            if path.isEmpty && state.device.bootstrap?.discover == true {
                answer = COAP_RESPONSE_CODE_CONTENT
                // The bootstrap account at /0/0 (no ssid); no server account yet.
                let links = Array(#"lwm2m="1.1",</0/0>,</1>,</3/0>,</19/0>,</19/1>"#.utf8)
                add(response, UInt16(COAP_OPTION_CONTENT_FORMAT), encodeUInt(40))
                _ = links.withUnsafeBufferPointer { coap_add_data(response, $0.count, $0.baseAddress) }
            } else {
                answer = COAP_RESPONSE_CODE_NOT_FOUND
            }
        case COAP_REQUEST_CODE_DELETE:
            method = "DELETE"
            answer = COAP_RESPONSE_CODE_DELETED
        case COAP_REQUEST_CODE_PUT:
            method = "PUT"
            let format = Self.contentFormat(of: request)
            continuation.yield(.bootstrapWrite(device: index, path: "/" + path, contentFormat: format))
            if path.hasPrefix("0/"), let resources = Self.writtenResources(payload, format: format) {
                for (id, value) in resources { state.writtenSecurity[id] = value }
            } else if !path.hasPrefix("1/") || Self.writtenResources(payload, format: format) == nil {
                answer = COAP_RESPONSE_CODE_BAD_REQUEST
            }
        default:
            method = "POST"
            if path == "bs" { finishBootstrap(index, state) } else { answer = COAP_RESPONSE_CODE_NOT_ALLOWED }
        }
        coap_pdu_set_code(response, answer)
        let text = "\(answer.rawValue >> 5).\(String(format: "%02d", answer.rawValue & 0x1F))"
        continuation.yield(.bootstrapRequest(device: index, method: method, path: "/" + path, code: text))
    }

    static func contentFormat(of request: OpaquePointer) -> UInt16? {
        var iterator = coap_opt_iterator_t()
        guard let option = coap_check_option(request, UInt16(COAP_OPTION_CONTENT_FORMAT), &iterator) else { return nil }
        return UInt16(truncatingIfNeeded: coap_decode_var_bytes(coap_opt_value(option), Int(coap_opt_length(option))))
    }

    /// The resources of the written object instance by id, each value as TLV carries it (so the
    /// URI is its UTF-8, the key its bytes); nil when the payload is not the format it says.
    static func writtenResources(_ payload: [UInt8], format: UInt16?) -> [UInt16: [UInt8]]? {
        var resources: [UInt16: [UInt8]] = [:]
        switch format {
        case SenMLJSON.contentFormat, SenMLCBOR.contentFormat:
            let records = format == SenMLJSON.contentFormat ? try? SenMLJSON.decode(payload) : try? SenMLCBOR.decode(payload)
            guard let records, let written = try? LwM2MSenML.resources(records) else { return nil }
            for resource in written where resource.path.count == 3 { resources[resource.path[2]] = resource.value.bytes }
        default:
            guard let instance = (try? TLV.decode(payload))?.first else { return nil }
            for resource in instance.children where resource.kind == .resource { resources[resource.id] = resource.value }
        }
        return resources
    }

    /// Bootstrap-Finish: the written account becomes the module's; it registers there (next turn).
    func finishBootstrap(_ index: Int, _ state: DeviceState) {
        let uri = state.writtenSecurity[0].map { String(decoding: $0, as: UTF8.self) } ?? ""
        if let identity = state.writtenSecurity[3] { state.device.pskIdentity = String(decoding: identity, as: UTF8.self) }
        if let key = state.writtenSecurity[5] { state.device.psk = key }
        // coaps://host:port
        let hostPort = uri.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        if let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) {
            state.serverOverride = (String(hostPort[..<colon]), port)
        }
        continuation.yield(.bootstrapped(device: index, serverURI: uri))
        send(.bootstrapDone(index))
    }

    /// After the Finish answer has left: the bootstrap session goes, the registration starts.
    func bootstrapDone(_ index: Int) {
        guard let state = state(index) else { return }
        if let session = state.bootstrapSession {
            state.bootstrapSession = nil
            coap_session_release(session)
        }
        execute(.register(index))
    }
}
