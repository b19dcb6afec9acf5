import CCoAP
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// The libcoap client plumbing of the simulator (CoAP thread only): the context's resources and
// loop, sessions, requests with their options and tokens.

extension NBIoTDeviceSimulator {
    func addResource(_ path: String) {
        guard let context else { return }
        let bytes = Array(path.utf8)
        guard let uri = bytes.withUnsafeBufferPointer({ coap_new_str_const($0.baseAddress, $0.count) }),
              let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else { return }
        coap_register_handler(resource, COAP_REQUEST_GET, simulatorGetHandler)
        coap_register_handler(resource, COAP_REQUEST_PUT, simulatorWriteHandler)
        coap_register_handler(resource, COAP_REQUEST_POST, simulatorWriteHandler)
        coap_add_resource(context, resource)
    }

    func loop() {
        guard let context else { return }
        var fds = [pollfd(fd: coap_context_get_coap_fd(context), events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !stopFlag.withLock({ $0 }) {
            let work = commands.withLock { queue -> [Command] in
                defer { queue.removeAll() }
                return queue
            }
            for command in work { execute(command) }
            pcpTick()
            coap_io_process(context, UInt32.max)
            fds[0].revents = 0
            fds[1].revents = 0
            if poll(&fds, 2, 200) > 0, fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
        }
        for state in devices { if let session = state.session { coap_session_release(session) } }
        devices.removeAll()
        coap_free_context(context)
        self.context = nil
    }

    /// Swaps the UDP socket bound to `localPort` for an unconnected one, so whatever libcoap sends
    /// on it next goes nowhere and the port is free for the next session.
    func silenceSocket(localPort: UInt16) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            var type: Int32 = 0
            var typeLength = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0, type == Int32(SOCK_DGRAM.rawValue) else { continue }
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard ok == 0, Int32(address.sin_family) == AF_INET, UInt16(bigEndian: address.sin_port) == localPort else { continue }
            let dummy = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard dummy >= 0 else { return }
            dup2(dummy, fd)
            close(dummy)
            return
        }
    }

    func state(_ index: Int) -> DeviceState? { index >= 0 && index < devices.count ? devices[index] : nil }

    func openSession(_ index: Int) {
        openSession(index, localAddress: nil)
    }

    func openSession(_ index: Int, localAddress: UnsafeMutablePointer<coap_address_t>?) {
        guard let context, let state = state(index) else { return }
        var address = coap_address_t()
        coap_address_init(&address)
        let server = state.serverOverride ?? self.server
        address.addr.sin.sin_family = sa_family_t(AF_INET)
        address.addr.sin.sin_port = server.port.bigEndian
        inet_pton(AF_INET, server.host, &address.addr.sin.sin_addr)
        address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
        state.sessionStartedAt = .now
        let session: OpaquePointer?
        if state.device.plain {
            session = coap_new_client_session(context, localAddress, &address, COAP_PROTO_UDP)
        } else {
            session = Self.pskSession(context, local: localAddress, remote: &address, identity: state.device.pskIdentity, key: state.device.psk)
        }
        guard let session else {
            continuation.yield(.failed(device: index, what: "session"))
            return
        }
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(index + 1)))
        state.session = session
    }

    func sendRequest(_ index: Int, code: coap_pdu_code_t, path: String, query: [String],
                             payload: [UInt8]?, format: UInt32?, label: String) {
        guard let state = state(index), let session = state.session,
              let pdu = coap_pdu_init(COAP_MESSAGE_CON, code, coap_mid_t(coap_new_message_id(session)),
                                      coap_session_max_pdu_size(session)) else { return }
        var token = [UInt8](repeating: 0, count: 8)
        var length = 0
        coap_session_new_token(session, &length, &token)
        _ = coap_add_token(pdu, length, token)
        for segment in path.split(separator: "/") { add(pdu, UInt16(COAP_OPTION_URI_PATH), Array(segment.utf8)) }
        if let format { add(pdu, UInt16(COAP_OPTION_CONTENT_FORMAT), encodeUInt(format)) }
        for item in query { add(pdu, UInt16(COAP_OPTION_URI_QUERY), Array(item.utf8)) }
        if let payload { _ = payload.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) } }
        state.pendingTokens[Self.tokenValue(token.prefix(length))] = label
        _ = coap_send(session, pdu)
    }

    func add(_ pdu: OpaquePointer, _ number: UInt16, _ value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    func encodeUInt(_ value: UInt32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4)
        let length = Int(coap_encode_var_safe(&buffer, 4, value))
        return Array(buffer.prefix(length))
    }

    static func tokenValue<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    func index(of session: OpaquePointer) -> Int? {
        guard let data = coap_session_get_app_data(session) else { return nil }
        let index = Int(UInt(bitPattern: data)) - 1
        guard let state = state(index), state.session == session || state.bootstrapSession == session else { return nil }
        return index
    }

    func uriPath(of resource: OpaquePointer) -> String {
        guard let uri = coap_resource_get_uri_path(resource), let bytes = uri.pointee.s else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: uri.pointee.length), as: UTF8.self)
    }

    /// A DTLS-PSK client session to `remote` (libcoap copies identity and key).
    static func pskSession(_ context: OpaquePointer, local: UnsafeMutablePointer<coap_address_t>?,
                           remote: UnsafeMutablePointer<coap_address_t>, identity: String, key: [UInt8]) -> OpaquePointer? {
        let identityBytes = identity.utf8CString.map { UInt8(bitPattern: $0) }
        return identityBytes.withUnsafeBufferPointer { identityBuffer in
            key.withUnsafeBufferPointer { keyBuffer in
                var setup = coap_dtls_cpsk_t()
                setup.version = UInt8(COAP_DTLS_CPSK_SETUP_VERSION)
                setup.psk_info.identity = coap_bin_const_t(length: identityBuffer.count - 1, s: identityBuffer.baseAddress)
                setup.psk_info.key = coap_bin_const_t(length: keyBuffer.count, s: keyBuffer.baseAddress)
                return coap_new_client_session_psk2(context, local, remote, COAP_PROTO_DTLS, &setup)
            }
        }
    }
}
