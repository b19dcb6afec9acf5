import CMosquitto
import COpenSSL
import Foundation
import GatewayCore

/// What one connection reports, in the order libmosquitto saw it.
enum MosquittoEvent: Sendable {
    /// CONNACK accepted and every SUBACK in: the connection is ready.
    case ready
    case acknowledged(messageId: Int32)
    case message(CloudMessage)
    case subscriptionRefused(topic: String)
    case log(level: Int32, text: String)
}

/// How a connection's loop ended.
enum MosquittoEnd: Sendable, Equatable {
    case refused(ConnackCode)
    case failed(String)
    /// It had been ready; the link dropped or was stopped.
    case closed(String, CloudDisconnectReason)
}

/// One connection attempt: one `struct mosquitto`, driven by `run()` on a thread of its own.
///
/// The TCP connect and the TLS handshake are waited for by `LinkHandshake` (poll() on what is
/// awaited, woken by `stop()`), because libmosquitto 2.0.11's loop busy-spins on a failed TLS
/// connect; libmosquitto's loop takes over once the link is established.
///
/// Why an external loop (`mosquitto_loop` on our thread) and not `mosquitto_loop_start`: the
/// library's own thread reconnects by itself with a fixed ClientId and no jitter, while the
/// platform needs a fresh ClientId/password each attempt and a long pause after an auth
/// refusal. Owning the loop lets the session decide every reconnect. The instance is
/// `mosquitto_threaded_set(true)`, so publishes from other threads only queue and wake the
/// loop's select() through libmosquitto's socket pair; they never write the socket themselves.
final class MosquittoConnection: @unchecked Sendable {
    /// How often the loop checks for a stop request or a connect timeout when idle.
    static let loopTimeoutMilliseconds: Int32 = 500
    /// How long a stopped connection may take to send DISCONNECT before it is dropped.
    static let stopGrace: Duration = .seconds(2)

    let generation: UInt64
    private let settings: CloudSessionSettings
    private let credentials: CloudCredentials
    private let onEvent: @Sendable (MosquittoEvent) -> Void
    /// Guards the handle against destroy while another thread publishes. Held only around
    /// libmosquitto calls that do not call back into us (threaded mode queues and returns).
    private let handle: Locked<OpaquePointer?>
    /// Touched only on the loop thread (callbacks run there).
    private var connack: Int32?
    private var pendingSubscriptions: [Int32: String] = [:]
    private var isReady = false
    /// libmosquitto's error lines before the link is ready, folded into the failure reason.
    private var setupErrors: [String] = []
    /// OpenSSL's verify error when the broker's certificate was rejected.
    private var certificateError: Int32?
    private let stopRequested = Locked(false)
    /// A pipe whose read end turns readable on `stop()`; it wakes the handshake's poll().
    private let stopPipe: (read: Int32, write: Int32)

    init(generation: UInt64, settings: CloudSessionSettings, credentials: CloudCredentials,
         onEvent: @escaping @Sendable (MosquittoEvent) -> Void) throws(CloudSessionError) {
        MosquittoLibrary.initialize()
        self.generation = generation
        self.settings = settings
        self.credentials = credentials
        self.onEvent = onEvent
        handle = Locked(nil)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw CloudSessionError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC); _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        stopPipe = (fds[0], fds[1])
        // Clean session: the outbox replays what was not acknowledged, and subscriptions are
        // renewed on every CONNACK, so no broker-side session is needed.
        guard let mosq = mosquitto_new(credentials.clientId, true, nil) else {
            throw CloudSessionError("cannot create an MQTT client (out of memory, or an empty client id)")
        }
        handle.withLock { $0 = mosq }
        mosquitto_user_data_set(mosq, Unmanaged.passUnretained(self).toOpaque())
        do throws(CloudSessionError) {
            try check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311), "select MQTT 3.1.1")
            try check(mosquitto_threaded_set(mosq, true), "enable threaded mode")
            try check(mosquitto_max_inflight_messages_set(mosq, UInt32(max(1, settings.maxInflight))), "set the in-flight window")
            _ = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1)
            try check(mosquitto_username_pw_set(mosq, credentials.username, credentials.password), "set username and password")
            if case .tls(let caFile) = settings.transport {
                if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                    throw CloudSessionError("CA file \(caFile) is missing or unreadable")
                }
                let context = try TLSContext.make(caFile: caFile, host: settings.host,
                                                  verifyContext: Unmanaged.passUnretained(self).toOpaque())
                // Used as it is (see `TLSContext`); libmosquitto takes its own reference.
                let noDefaults = mosquitto_int_option(mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0)
                let handedOver = mosquitto_void_option(mosq, MOSQ_OPT_SSL_CTX, UnsafeMutableRawPointer(context))
                SSL_CTX_free(context)
                try check(noDefaults, "use our TLS settings")
                try check(handedOver, "set the TLS context")
            }
        } catch {
            destroy()
            throw error
        }
        mosquitto_connect_callback_set(mosq, mosquittoOnConnect)
        mosquitto_disconnect_callback_set(mosq, mosquittoOnDisconnect)
        mosquitto_publish_callback_set(mosq, mosquittoOnPublish)
        mosquitto_subscribe_callback_set(mosq, mosquittoOnSubscribe)
        mosquitto_message_callback_set(mosq, mosquittoOnMessage)
        mosquitto_log_callback_set(mosq, mosquittoOnLog)
    }

    deinit {
        destroy()
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// Connects and runs the loop until the link ends or `stop()`; blocking, on a dedicated thread.
    func run() -> MosquittoEnd {
        defer { destroy() }
        guard let mosq = handle.withLock({ $0 }) else { return .failed("client already destroyed") }
        let peer = "\(settings.host):\(settings.port)"
        if stopRequested.withLock({ $0 }) { return .failed("stopped before connecting to \(peer)") }
        let deadline = ContinuousClock.now + settings.connectTimeout
        errno = 0
        var rc = mosquitto_connect_async(mosq, settings.host, Int32(settings.port), Int32(settings.keepalive))
        // With TLS, libmosquitto's first SSL_connect may have written to the socket already and
        // taken its error (e.g. ECONNREFUSED); errno still holds it.
        let earlyError = errno
        if rc == Int32(MOSQ_ERR_TLS.rawValue) {
            // On a fast link the handshake can end inside connect_async already.
            return .failed("cannot connect to \(peer): \(tlsFailure(setupErrors.joined(separator: "; ")))")
        }
        if rc != success {
            return .failed("cannot connect to \(peer): \(Self.describe(rc))")
        }
        switch establish(mosq, deadline: deadline, earlyError: earlyError) {
        case .established: break
        case .stopped: return .failed("stopped while connecting to \(peer)")
        case .failed(let reason): return .failed("cannot connect to \(peer): \(withSetupErrors(reason))")
        case .tlsFailed(let reasons): return .failed("cannot connect to \(peer): \(tlsFailure(reasons))")
        case .timedOut(let what): return .failed("\(what) to \(peer) within \(settings.connectTimeout)")
        }
        var stoppingSince: ContinuousClock.Instant?
        while true {
            if stoppingSince == nil, stopRequested.withLock({ $0 }) {
                stoppingSince = .now
                rc = mosquitto_disconnect(mosq)
                if rc != success { return end(stoppedBy: "stopped", .normal) }
            }
            rc = mosquitto_loop(mosq, Self.loopTimeoutMilliseconds, 1)
            if rc != success { break }
            if let stoppingSince, ContinuousClock.now - stoppingSince > Self.stopGrace { break }
            if connack == nil, ContinuousClock.now > deadline {
                return .failed("no CONNACK from \(peer) within \(settings.connectTimeout)")
            }
        }
        if stoppingSince != nil { return end(stoppedBy: "stopped", .normal) }
        return end(stoppedBy: withSetupErrors(Self.describe(rc)), CloudDisconnectReason(mosquittoCode: rc))
    }

    /// Waits for the TCP connect and, with TLS, completes the handshake (see `LinkHandshake`).
    private func establish(_ mosq: OpaquePointer, deadline: ContinuousClock.Instant, earlyError: Int32) -> LinkHandshake.Outcome {
        let socket = mosquitto_socket(mosq)
        guard socket >= 0 else { return .failed("no socket") }
        var ssl: OpaquePointer?
        if case .tls = settings.transport {
            guard let raw = mosquitto_ssl_get(mosq) else { return .failed("TLS was not set up") }
            ssl = OpaquePointer(raw)
        }
        let outcome = LinkHandshake(socket: socket, ssl: ssl, stopSignal: stopPipe.read, deadline: deadline,
                                    earlyError: earlyError).run()
        // libmosquitto still thinks the handshake is pending; one read lets it see it is done, so
        // the queued CONNECT goes out at once rather than after a loop timeout.
        if outcome == .established, ssl != nil { _ = mosquitto_loop_read(mosq, 1) }
        return outcome
    }

    /// Why the TLS handshake failed: the certificate problem when there is one, else OpenSSL's reasons.
    private func tlsFailure(_ reasons: String) -> String {
        guard let certificateError else {
            return "TLS handshake failed: \(reasons.isEmpty ? "no reason given" : reasons)"
        }
        var caFile: String?
        if case .tls(let file) = settings.transport { caFile = file }
        return TLSContext.certificateProblem(code: certificateError, caFile: caFile, host: settings.host)
    }

    /// A failure reason with what libmosquitto logged while setting up, e.g. a host name mismatch.
    private func withSetupErrors(_ reason: String) -> String {
        let extra = setupErrors.filter { !reason.contains($0) }
        return extra.isEmpty ? reason : "\(reason) (\(extra.joined(separator: "; ")))"
    }

    private func end(stoppedBy reason: String, _ disconnect: CloudDisconnectReason) -> MosquittoEnd {
        if let connack, connack != 0 {
            return .refused(ConnackCode(rawValue: connack) ?? .notAuthorized)
        }
        if isReady { return .closed(reason, disconnect) }
        if connack == 0 { return .failed("link dropped before subscriptions completed: \(reason)") }
        return .failed("cannot connect to \(settings.host):\(settings.port): \(reason)")
    }

    /// Asks the loop to send DISCONNECT and end; safe from any thread.
    func stop() {
        stopRequested.withLock { $0 = true }
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        // Wakes the loop's select() through libmosquitto's socket pair.
        handle.withLock { mosq in
            if let mosq { _ = mosquitto_disconnect(mosq) }
        }
    }

    /// Queues a QoS 1 PUBLISH; safe from any thread.
    func publish(topic: String, payload: [UInt8]) throws(CloudPublishError) -> Int32 {
        var mid: Int32 = 0
        let rc: Int32 = handle.withLock { mosq in
            guard let mosq else { return Int32(MOSQ_ERR_NO_CONN.rawValue) }
            return payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, &mid, topic, Int32(bytes.count), bytes.baseAddress, 1, false)
            }
        }
        switch rc {
        case success: return mid
        case Int32(MOSQ_ERR_NO_CONN.rawValue): throw .notConnected
        case Int32(MOSQ_ERR_INVAL.rawValue), Int32(MOSQ_ERR_PAYLOAD_SIZE.rawValue),
             Int32(MOSQ_ERR_MALFORMED_UTF8.rawValue), Int32(MOSQ_ERR_OVERSIZE_PACKET.rawValue):
            throw .rejected(Self.describe(rc))
        default: throw .failed(Self.describe(rc))
        }
    }

    // MARK: callbacks (loop thread)

    func connackReceived(code: Int32) {
        connack = code
        guard code == 0 else { return }
        guard let mosq = handle.withLock({ $0 }) else { return }
        for topic in settings.subscriptions {
            var mid: Int32 = 0
            let rc = mosquitto_subscribe(mosq, &mid, topic, 1)
            if rc == success {
                pendingSubscriptions[mid] = topic
            } else {
                onEvent(.subscriptionRefused(topic: "\(topic) (\(Self.describe(rc)))"))
            }
        }
        if pendingSubscriptions.isEmpty { becomeReady() }
    }

    func subscribed(messageId: Int32, granted: [Int32]) {
        guard let topic = pendingSubscriptions.removeValue(forKey: messageId) else { return }
        // 0x80 is the SUBACK failure code (e.g. an ACL refused the filter).
        if granted.contains(where: { $0 < 0 || $0 > 2 }) { onEvent(.subscriptionRefused(topic: topic)) }
        if pendingSubscriptions.isEmpty, !isReady { becomeReady() }
    }

    private func becomeReady() {
        isReady = true
        onEvent(.ready)
    }

    func disconnected(code: Int32) {}

    func acknowledged(messageId: Int32) { onEvent(.acknowledged(messageId: messageId)) }

    func received(topic: String, payload: [UInt8]) { onEvent(.message(CloudMessage(topic: topic, payload: payload))) }

    func certificateRejected(code: Int32) { certificateError = code }

    func libraryLog(level: Int32, text: String) {
        // Before the link is ready an error belongs to this attempt's one failure line.
        if !isReady, level & Int32(MOSQ_LOG_ERR) != 0 {
            setupErrors.append(text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text)
            return
        }
        onEvent(.log(level: level, text: text))
    }

    // MARK: helpers

    private func destroy() {
        let mosq: OpaquePointer? = handle.withLock { mosq in
            defer { mosq = nil }
            return mosq
        }
        if let mosq { mosquitto_destroy(mosq) }
    }

    private var success: Int32 { Int32(MOSQ_ERR_SUCCESS.rawValue) }

    private func check(_ rc: Int32, _ what: String) throws(CloudSessionError) {
        if rc != success { throw CloudSessionError("cannot \(what): \(Self.describe(rc))") }
    }

    static func describe(_ rc: Int32) -> String {
        // libmosquitto 2.0.11's strerror has no text for it ("Unknown error").
        if rc == Int32(MOSQ_ERR_KEEPALIVE.rawValue) { return "no packet from the broker within the keepalive" }
        if rc == Int32(MOSQ_ERR_ERRNO.rawValue) {
            return String(cString: strerror(errno))
        }
        return String(cString: mosquitto_strerror(rc))
    }
}

/// A session that cannot even be set up (bad TLS file, out of memory).
public struct CloudSessionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
