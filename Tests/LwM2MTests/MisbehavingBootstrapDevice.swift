import CCoAP
import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// A module that gets the bootstrap interface wrong, on a libcoap DTLS-PSK client session of its
/// own (thread of its own): it sends `POST /bs?ep=` like any module, then misbehaves as told.
final class MisbehavingBootstrapDevice: @unchecked Sendable { // context and session used on its thread only
    enum Behaviour: Sendable {
        /// Once `POST /bs` is answered, reads nothing more: the server's requests go unacknowledged.
        case silentAfterBootstrapAnswer
        /// Discover and Deletes as a module answers them, every Write 4.00.
        case refusesWrites
        /// Bootstrap-Discover answered 2.05, content format 40, with these bytes.
        case discoverAnswers([UInt8])
    }

    static let paths = ["", "0", "1", "0/0", "0/1", "0/2", "1/0", "1/1", "bs"]

    let behaviour: Behaviour
    private let port: UInt16
    private let endpoint: String
    private let key: [UInt8]
    private let stopFlag = Locked(false)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// The answer to `POST /bs`, e.g. "2.04".
    let bootstrapAnswer = Locked<String?>(nil)
    /// The server's requests as answered here, e.g. "PUT /0/1 4.00".
    let requests = Locked<[String]>([])
    private let silent = Locked(false)

    init(port: UInt16, endpoint: String, key: [UInt8], behaviour: Behaviour) {
        self.port = port
        self.endpoint = endpoint
        self.key = key
        self.behaviour = behaviour
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "misbehaving-bootstrap-device"
        self.thread = thread
        thread.start()
    }

    func stop() {
        guard thread != nil else { return }
        stopFlag.withLock { $0 = true }
        finished.wait()
        thread = nil
    }

    private func run() {
        coap_startup()
        guard let context = coap_new_context(nil) else { return }
        coap_set_app_data(context, Unmanaged.passUnretained(self).toOpaque())
        coap_register_response_handler(context, misbehavingDeviceResponseHandler)
        for path in Self.paths {
            let bytes = Array(path.utf8)
            guard let uri = bytes.withUnsafeBufferPointer({ coap_new_str_const($0.baseAddress, $0.count) }),
                  let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else { continue }
            for method in [COAP_REQUEST_GET, COAP_REQUEST_PUT, COAP_REQUEST_POST, COAP_REQUEST_DELETE] {
                coap_register_handler(resource, method, misbehavingDeviceRequestHandler)
            }
            coap_add_resource(context, resource)
        }
        var address = coap_address_t()
        coap_address_init(&address)
        address.addr.sin.sin_family = sa_family_t(AF_INET)
        address.addr.sin.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.addr.sin.sin_addr)
        address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let identity = endpoint.utf8CString.map { UInt8(bitPattern: $0) }
        let session: OpaquePointer? = identity.withUnsafeBufferPointer { identityBuffer in
            key.withUnsafeBufferPointer { keyBuffer in
                var setup = coap_dtls_cpsk_t()
                setup.version = UInt8(COAP_DTLS_CPSK_SETUP_VERSION)
                setup.psk_info.identity = coap_bin_const_t(length: identityBuffer.count - 1, s: identityBuffer.baseAddress)
                setup.psk_info.key = coap_bin_const_t(length: keyBuffer.count, s: keyBuffer.baseAddress)
                return coap_new_client_session_psk2(context, nil, &address, COAP_PROTO_DTLS, &setup)
            }
        }
        if let session, let pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_mid_t(coap_new_message_id(session)),
                                                 coap_session_max_pdu_size(session)) {
            Self.add(pdu, UInt16(COAP_OPTION_URI_PATH), Array("bs".utf8))
            Self.add(pdu, UInt16(COAP_OPTION_URI_QUERY), Array("ep=\(endpoint)".utf8))
            _ = coap_send(session, pdu)
        }
        while !stopFlag.withLock({ $0 }) {
            if silent.withLock({ $0 }) {
                // Nothing is read: to the server the device has gone quiet.
                usleep(10_000)
            } else {
                coap_io_process(context, 10)
            }
        }
        if let session { coap_session_release(session) }
        coap_free_context(context)
    }

    func handleResponse(received: OpaquePointer) {
        bootstrapAnswer.withLock { $0 = Self.text(coap_pdu_get_code(received)) }
        if case .silentAfterBootstrapAnswer = behaviour { silent.withLock { $0 = true } }
    }

    func handleRequest(resource: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        let path = coap_resource_get_uri_path(resource).flatMap { uri in
            uri.pointee.s.map { String(decoding: UnsafeBufferPointer(start: $0, count: uri.pointee.length), as: UTF8.self) }
        } ?? ""
        if silent.withLock({ $0 }) {
            // Read in the same turn as the answer to POST /bs: left without a response.
            requests.withLock { $0.append("\(coap_pdu_get_code(request).rawValue) /\(path) -") }
            return
        }
        let method: String
        var answer = COAP_RESPONSE_CODE_CHANGED
        switch coap_pdu_get_code(request) {
        case COAP_REQUEST_CODE_GET:
            method = "GET"
            let payload: [UInt8]
            switch behaviour {
            case .discoverAnswers(let bytes): payload = bytes
            default: payload = Array(#"lwm2m="1.1",</0/0>,</1>,</3/0>"#.utf8)
            }
            answer = COAP_RESPONSE_CODE_CONTENT
            Self.add(response, UInt16(COAP_OPTION_CONTENT_FORMAT), [40])
            _ = payload.withUnsafeBufferPointer { coap_add_data(response, $0.count, $0.baseAddress) }
        case COAP_REQUEST_CODE_DELETE:
            method = "DELETE"
            answer = COAP_RESPONSE_CODE_DELETED
        case COAP_REQUEST_CODE_PUT:
            method = "PUT"
            if case .refusesWrites = behaviour { answer = COAP_RESPONSE_CODE_BAD_REQUEST }
        default:
            method = "POST"
        }
        coap_pdu_set_code(response, answer)
        requests.withLock { $0.append("\(method) /\(path) \(Self.text(answer))") }
    }

    static func add(_ pdu: OpaquePointer, _ number: UInt16, _ value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    static func text(_ code: coap_pdu_code_t) -> String {
        "\(code.rawValue >> 5).\(String(format: "%02d", code.rawValue & 0x1F))"
    }
}

// libcoap's callbacks as top-level functions (a closure literal may be inferred @MainActor and
// trap on the device's thread).
private func misbehavingDevice(of session: OpaquePointer?) -> MisbehavingBootstrapDevice? {
    guard let session, let context = coap_session_get_context(session), let data = coap_get_app_data(context) else { return nil }
    return Unmanaged<MisbehavingBootstrapDevice>.fromOpaque(data).takeUnretainedValue()
}

private func misbehavingDeviceResponseHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ received: OpaquePointer?,
                                              _ mid: coap_mid_t) -> coap_response_t {
    guard let received else { return COAP_RESPONSE_OK }
    misbehavingDevice(of: session)?.handleResponse(received: received)
    return COAP_RESPONSE_OK
}

private func misbehavingDeviceRequestHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                                             _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let resource, let request, let response else { return }
    misbehavingDevice(of: session)?.handleRequest(resource: resource, request: request, response: response)
}
