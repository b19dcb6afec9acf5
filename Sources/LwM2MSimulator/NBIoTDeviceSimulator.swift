import GatewayCore
import CCoAP
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Simulated NB-IoT modules on libcoap's client API: each device has its own DTLS-PSK session
/// (own identity and key), registers (`POST /rd`), accepts the server's Observe on its data
/// resource, sends binary notifications, accepts downlink writes and ACKs them, sleeps (closes its
/// session, so nothing answers) and wakes (new session, Register or Update).
/// One thread drives all devices of one simulator (libcoap is not thread-safe).
public final class NBIoTDeviceSimulator: @unchecked Sendable {
    public struct Device: Sendable, Equatable {
        public var endpoint: String
        public var pskIdentity: String
        public var psk: [UInt8]
        public var lifetime: Int
        /// Link-format object list sent in the Register; `</t/d>` makes it the TUP flavour.
        public var objectLinks: String
        /// Plain CoAP instead of DTLS.
        public var plain: Bool

        public init(endpoint: String, pskIdentity: String? = nil, psk: [UInt8], lifetime: Int = 300,
                    objectLinks: String = "</1/0>,</3/0>,</19/0>,</19/1>", plain: Bool = false) {
            self.endpoint = endpoint
            self.pskIdentity = pskIdentity ?? endpoint
            self.psk = psk
            self.lifetime = lifetime
            self.objectLinks = objectLinks
            self.plain = plain
        }
    }

    public enum Event: Sendable, Equatable {
        /// 2.01 Created; `location` is e.g. "rd/1a".
        case registered(device: Int, location: String)
        /// Any answer to the Register (also 4.04 from a server without /rd), timed from the first ClientHello.
        case registerAnswered(device: Int, code: String, sinceStart: Duration)
        case registerRefused(device: Int, code: String)
        case updated(device: Int, code: String)
        case deregistered(device: Int, code: String)
        /// The server's Observe GET arrived; `sinceStart` runs from the session's creation (first ClientHello).
        case observed(device: Int, path: String, sinceStart: Duration, sinceRegisterSent: Duration)
        case downlink(device: Int, path: String, method: String, payload: [UInt8])
        /// A request we sent was never answered or was reset.
        case failed(device: Int, what: String)
    }

    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let server: (host: String, port: UInt16)
    private let commands = SimulatorLocked<[Command]>([])
    private let stopFlag = SimulatorLocked(false)
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// Reply written to the uplink resource after each downlink write, if set (command responses).
    private let responder: (@Sendable (Int, [UInt8]) -> [UInt8]?)?

    // CoAP-thread state.
    private var context: OpaquePointer?
    private var devices: [DeviceState] = []

    private enum Command {
        case add(Device)
        case register(Int)
        case update(Int)
        case deregister(Int)
        case notify(Int, [UInt8], confirmable: Bool)
        case sleep(Int)
        case wake(Int, reregister: Bool)
        case reboot(Int)
    }

    private final class DeviceState {
        var device: Device
        var session: OpaquePointer?
        var sessionStartedAt: ContinuousClock.Instant?
        var registerSentAt: ContinuousClock.Instant?
        var location: String?
        var observeToken: [UInt8]?
        var observePath: String?
        var observeSequence: UInt32 = 2
        var pendingTokens: [UInt64: String] = [:]
        init(device: Device) { self.device = device }
    }

    /// Resources every simulated module could serve; each device answers only on those its
    /// object list announces (4.04 otherwise, as a module does).
    public static let defaultResources = ["19/0/0", "t/d", "19/1/0"]
    private let resourcePaths: [String]

    public init(serverHost: String = "127.0.0.1", serverPort: UInt16, resources: [String] = defaultResources,
                responder: (@Sendable (Int, [UInt8]) -> [UInt8]?)? = nil) {
        server = (serverHost, serverPort)
        resourcePaths = resources.map { $0.split(separator: "/").joined(separator: "/") }
        self.responder = responder
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    deinit {
        stop()
    }

    public func start() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SimulatorError("pipe failed") }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        let ready = DispatchSemaphore(value: 0)
        let failure = SimulatorLocked<String?>(nil)
        let thread = Thread { [self] in
            coap_startup()
            guard let context = coap_new_context(nil) else {
                failure.withLock { $0 = "coap_new_context failed" }
                ready.signal()
                finished.signal()
                return
            }
            self.context = context
            coap_set_app_data(context, Unmanaged.passUnretained(self).toOpaque())
            coap_register_response_handler(context, simulatorResponseHandler)
            coap_register_nack_handler(context, simulatorNackHandler)
            for path in resourcePaths { addResource(path) }
            ready.signal()
            loop()
            finished.signal()
        }
        thread.name = "nbiot-sim"
        self.thread = thread
        thread.start()
        ready.wait()
        if let message = failure.withLock({ $0 }) { throw SimulatorError(message) }
    }

    public func stop() {
        guard thread != nil else { return }
        stopFlag.withLock { $0 = true }
        wake()
        finished.wait()
        thread = nil
        close(wakeRead)
        close(wakeWrite)
        continuation.finish()
    }

    /// Adds a device; returns its index (devices are numbered from 0 in the order added).
    @discardableResult
    public func add(_ device: Device) -> Int {
        let index = addedCount.withLock { count -> Int in
            defer { count += 1 }
            return count
        }
        send(.add(device))
        return index
    }
    private let addedCount = SimulatorLocked(0)

    /// Opens the device's session (DTLS handshake) and sends Register.
    public func register(_ device: Int) { send(.register(device)) }
    public func update(_ device: Int) { send(.update(device)) }
    public func deregister(_ device: Int) { send(.deregister(device)) }
    /// A notification on the observed data resource.
    public func notify(_ device: Int, payload: [UInt8], confirmable: Bool = true) {
        send(.notify(device, payload, confirmable: confirmable))
    }
    /// PSM: the device closes its session and answers nothing.
    public func sleep(_ device: Int) { send(.sleep(device)) }
    /// Out of PSM: a new session, then Register (`reregister`) or Update of the old registration.
    public func wake(_ device: Int, reregister: Bool = false) { send(.wake(device, reregister: reregister)) }

    /// A module reboot behind the same address: the session vanishes silently (DTLS sends no
    /// close_notify here) and a new handshake and Register come from the same local port.
    public func reboot(_ device: Int) { send(.reboot(device)) }

    private func send(_ command: Command) {
        commands.withLock { $0.append(command) }
        wake()
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    // MARK: - CoAP thread

    private func addResource(_ path: String) {
        guard let context else { return }
        let bytes = Array(path.utf8)
        guard let uri = bytes.withUnsafeBufferPointer({ coap_new_str_const($0.baseAddress, $0.count) }),
              let resource = coap_resource_init(uri, Int32(COAP_RESOURCE_FLAGS_RELEASE_URI)) else { return }
        coap_register_handler(resource, COAP_REQUEST_GET, simulatorGetHandler)
        coap_register_handler(resource, COAP_REQUEST_PUT, simulatorWriteHandler)
        coap_register_handler(resource, COAP_REQUEST_POST, simulatorWriteHandler)
        coap_add_resource(context, resource)
    }

    private func loop() {
        guard let context else { return }
        var fds = [pollfd(fd: coap_context_get_coap_fd(context), events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !stopFlag.withLock({ $0 }) {
            let work = commands.withLock { queue -> [Command] in
                defer { queue.removeAll() }
                return queue
            }
            for command in work { execute(command) }
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

    private func execute(_ command: Command) {
        switch command {
        case .add(let device):
            devices.append(DeviceState(device: device))
        case .register(let index):
            guard let state = state(index) else { return }
            if state.session == nil { openSession(index) }
            sendRegister(index)
        case .update(let index):
            guard let state = state(index), let location = state.location else { return }
            if state.session == nil { openSession(index) }
            sendRequest(index, code: COAP_REQUEST_CODE_POST, path: location, query: ["lt=\(state.device.lifetime)"],
                        payload: nil, format: nil, label: "update")
        case .deregister(let index):
            guard let state = state(index), let location = state.location else { return }
            sendRequest(index, code: COAP_REQUEST_CODE_DELETE, path: location, query: [], payload: nil, format: nil, label: "deregister")
        case .notify(let index, let payload, let confirmable):
            sendNotification(index, payload: payload, confirmable: confirmable)
        case .sleep(let index):
            guard let state = state(index), let session = state.session else { return }
            state.session = nil
            state.observeToken = nil
            // A module entering PSM just stops listening: no close_notify.
            if let local = coap_session_get_addr_local(session) {
                silenceSocket(localPort: withUnsafePointer(to: local.pointee.addr.sin) { UInt16(bigEndian: $0.pointee.sin_port) })
            }
            coap_session_release(session)
        case .reboot(let index):
            guard let state = state(index), let session = state.session,
                  let localPointer = coap_session_get_addr_local(session) else { return }
            var local = localPointer.pointee
            state.session = nil
            state.observeToken = nil
            // libcoap's GnuTLS client sends close_notify on release; a rebooting module sends nothing.
            silenceSocket(localPort: withUnsafePointer(to: local.addr.sin) { UInt16(bigEndian: $0.pointee.sin_port) })
            coap_session_release(session)
            openSession(index, localAddress: &local)
            sendRegister(index)
        case .wake(let index, let reregister):
            guard let state = state(index) else { return }
            if state.session == nil { openSession(index) }
            if reregister || state.location == nil {
                sendRegister(index)
            } else if let location = state.location {
                sendRequest(index, code: COAP_REQUEST_CODE_POST, path: location, query: [], payload: nil, format: nil, label: "update")
            }
        }
    }

    /// Swaps the UDP socket bound to `localPort` for an unconnected one, so whatever libcoap sends
    /// on it next goes nowhere and the port is free for the next session.
    private func silenceSocket(localPort: UInt16) {
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

    private func state(_ index: Int) -> DeviceState? { index >= 0 && index < devices.count ? devices[index] : nil }

    private func openSession(_ index: Int) {
        openSession(index, localAddress: nil)
    }

    private func openSession(_ index: Int, localAddress: UnsafeMutablePointer<coap_address_t>?) {
        guard let context, let state = state(index) else { return }
        var address = coap_address_t()
        coap_address_init(&address)
        address.addr.sin.sin_family = sa_family_t(AF_INET)
        address.addr.sin.sin_port = server.port.bigEndian
        inet_pton(AF_INET, server.host, &address.addr.sin.sin_addr)
        address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
        state.sessionStartedAt = .now
        let session: OpaquePointer?
        if state.device.plain {
            session = coap_new_client_session(context, localAddress, &address, COAP_PROTO_UDP)
        } else {
            let identity = state.device.pskIdentity.utf8CString.map { UInt8(bitPattern: $0) }
            let key = state.device.psk
            session = identity.withUnsafeBufferPointer { identityBytes in
                key.withUnsafeBufferPointer { keyBytes in
                    var setup = coap_dtls_cpsk_t()
                    setup.version = UInt8(COAP_DTLS_CPSK_SETUP_VERSION)
                    setup.psk_info.identity = coap_bin_const_t(length: identityBytes.count - 1, s: identityBytes.baseAddress)
                    setup.psk_info.key = coap_bin_const_t(length: keyBytes.count, s: keyBytes.baseAddress)
                    return coap_new_client_session_psk2(context, localAddress, &address, COAP_PROTO_DTLS, &setup)
                }
            }
        }
        guard let session else {
            continuation.yield(.failed(device: index, what: "session"))
            return
        }
        coap_session_set_app_data(session, UnsafeMutableRawPointer(bitPattern: UInt(index + 1)))
        state.session = session
    }

    private func sendRegister(_ index: Int) {
        guard let state = state(index) else { return }
        state.registerSentAt = .now
        let query = ["ep=\(state.device.endpoint)", "lt=\(state.device.lifetime)", "lwm2m=1.0", "b=UQ"]
        sendRequest(index, code: COAP_REQUEST_CODE_POST, path: "rd", query: query,
                    payload: Array(state.device.objectLinks.utf8), format: 40, label: "register")
    }

    private func sendRequest(_ index: Int, code: coap_pdu_code_t, path: String, query: [String],
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

    private func sendNotification(_ index: Int, payload: [UInt8], confirmable: Bool) {
        guard let state = state(index), let session = state.session, let token = state.observeToken,
              let pdu = coap_pdu_init(confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, COAP_RESPONSE_CODE_CONTENT,
                                      coap_mid_t(coap_new_message_id(session)), coap_session_max_pdu_size(session)) else {
            if let state = state(index) { _ = state }
            continuation.yield(.failed(device: index, what: "notify (not observed)"))
            return
        }
        _ = coap_add_token(pdu, token.count, token)
        state.observeSequence = (state.observeSequence + 1) & 0xFF_FFFF
        add(pdu, UInt16(COAP_OPTION_OBSERVE), encodeUInt(state.observeSequence))
        add(pdu, UInt16(COAP_OPTION_CONTENT_FORMAT), encodeUInt(42))
        _ = payload.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) }
        _ = coap_send(session, pdu)
    }

    private func add(_ pdu: OpaquePointer, _ number: UInt16, _ value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    private func encodeUInt(_ value: UInt32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4)
        let length = Int(coap_encode_var_safe(&buffer, 4, value))
        return Array(buffer.prefix(length))
    }

    private static func tokenValue<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    private func index(of session: OpaquePointer) -> Int? {
        guard let data = coap_session_get_app_data(session) else { return nil }
        let index = Int(UInt(bitPattern: data)) - 1
        guard let state = state(index), state.session == session else { return nil }
        return index
    }

    // MARK: - Called by the C callbacks (CoAP thread)

    /// Whether an object list (`</1/0>,</19/0>`) announces a resource: its instance or its object is named.
    static func announces(_ objectLinks: String, _ path: String) -> Bool {
        let links = Set(objectLinks.split(separator: ",").compactMap { link -> String? in
            guard let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else { return nil }
            return link[link.index(after: open)..<close].split(separator: "/").joined(separator: "/")
        })
        var segments = path.split(separator: "/")
        while !segments.isEmpty {
            if links.contains(segments.joined(separator: "/")) { return true }
            segments.removeLast()
        }
        return false
    }

    func handleGet(resource: OpaquePointer, session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        let path = uriPath(of: resource)
        guard let index = index(of: session), let state = state(index), Self.announces(state.device.objectLinks, path) else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
            return
        }
        var observe = false
        var iterator = coap_opt_iterator_t()
        if let option = coap_check_option(request, UInt16(COAP_OPTION_OBSERVE), &iterator),
           coap_decode_var_bytes(coap_opt_value(option), Int(coap_opt_length(option))) == 0 {
            observe = true
        }
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT)
        if observe {
            let token = coap_pdu_get_token(request)
            state.observeToken = token.s.map { Array(UnsafeBufferPointer(start: $0, count: token.length)) } ?? []
            state.observePath = path
            add(response, UInt16(COAP_OPTION_OBSERVE), encodeUInt(state.observeSequence))
            let now = ContinuousClock.now
            continuation.yield(.observed(device: index, path: "/" + path,
                                         sinceStart: (state.sessionStartedAt ?? now).duration(to: now),
                                         sinceRegisterSent: (state.registerSentAt ?? now).duration(to: now)))
        }
    }

    func handleWrite(resource: OpaquePointer, session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let index = index(of: session), let state = state(index), Self.announces(state.device.objectLinks, uriPath(of: resource)) else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
            return
        }
        var length = 0
        var data: UnsafePointer<UInt8>?
        var payload: [UInt8] = []
        if coap_get_data(request, &length, &data) != 0, let data { payload = Array(UnsafeBufferPointer(start: data, count: length)) }
        let method = coap_pdu_get_code(request) == COAP_REQUEST_CODE_PUT ? "PUT" : "POST"
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
        continuation.yield(.downlink(device: index, path: "/" + uriPath(of: resource), method: method, payload: payload))
        if let reply = responder?(index, payload) {
            // The command's result goes up as a notification, after the ACK (next loop turn).
            send(.notify(index, reply, confirmable: true))
        }
    }

    func handleResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        guard let index = index(of: session), let state = state(index) else { return false }
        let token = coap_pdu_get_token(received)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        guard let label = state.pendingTokens.removeValue(forKey: value) else { return true }
        let code = UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue)
        let text = "\(code >> 5).\(String(format: "%02d", code & 0x1F))"
        switch label {
        case "register":
            let now = ContinuousClock.now
            continuation.yield(.registerAnswered(device: index, code: text, sinceStart: (state.sessionStartedAt ?? now).duration(to: now)))
            if text == "2.01" {
                var iterator = coap_opt_iterator_t()
                var segments: [String] = []
                if coap_option_iterator_init(received, &iterator, nil) != nil {
                    while let option = coap_option_next(&iterator) {
                        if iterator.number == UInt16(COAP_OPTION_LOCATION_PATH) {
                            segments.append(String(decoding: UnsafeBufferPointer(start: coap_opt_value(option), count: Int(coap_opt_length(option))), as: UTF8.self))
                        }
                    }
                }
                state.location = segments.joined(separator: "/")
                continuation.yield(.registered(device: index, location: state.location ?? ""))
            } else {
                continuation.yield(.registerRefused(device: index, code: text))
            }
        case "update":
            continuation.yield(.updated(device: index, code: text))
        case "deregister":
            if text == "2.02" { state.location = nil }
            continuation.yield(.deregistered(device: index, code: text))
        default:
            break
        }
        return true
    }

    func handleNack(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        guard let index = index(of: session), let state = state(index) else { return }
        let token = coap_pdu_get_token(sent)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        let label = state.pendingTokens.removeValue(forKey: value) ?? "notification"
        continuation.yield(.failed(device: index, what: "\(label) (nack \(reason.rawValue))"))
    }

    private func uriPath(of resource: OpaquePointer) -> String {
        guard let uri = coap_resource_get_uri_path(resource), let bytes = uri.pointee.s else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: uri.pointee.length), as: UTF8.self)
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

final class SimulatorLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
