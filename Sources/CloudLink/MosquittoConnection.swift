import CMosquitto
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
    case closed(String)
}

/// One connection attempt: one `struct mosquitto`, driven by `run()` on a thread of its own.
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
    private let stopRequested = Locked(false)

    init(generation: UInt64, settings: CloudSessionSettings, credentials: CloudCredentials,
         onEvent: @escaping @Sendable (MosquittoEvent) -> Void) throws(CloudSessionError) {
        MosquittoLibrary.initialize()
        self.generation = generation
        self.settings = settings
        self.credentials = credentials
        self.onEvent = onEvent
        handle = Locked(nil)
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
                if let caFile {
                    guard FileManager.default.isReadableFile(atPath: caFile) else {
                        throw CloudSessionError("CA file \(caFile) is missing or unreadable")
                    }
                    try check(mosquitto_tls_set(mosq, caFile, nil, nil, nil, nil), "load CA file \(caFile)")
                } else {
                    try check(mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "use the system CA store")
                }
                // SSL_VERIFY_PEER (1): the broker's chain must verify; host name checking stays on.
                try check(mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", nil), "set TLS options")
                try check(mosquitto_tls_insecure_set(mosq, false), "enable host name verification")
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

    deinit { destroy() }

    /// Connects and runs the loop until the link ends or `stop()`; blocking, on a dedicated thread.
    func run() -> MosquittoEnd {
        defer { destroy() }
        guard let mosq = handle.withLock({ $0 }) else { return .failed("client already destroyed") }
        let started = ContinuousClock.now
        var rc = mosquitto_connect_async(mosq, settings.host, Int32(settings.port), Int32(settings.keepalive))
        if rc != success {
            return .failed("cannot connect to \(settings.host):\(settings.port): \(Self.describe(rc))")
        }
        var stopping = false
        while true {
            if !stopping, stopRequested.withLock({ $0 }) {
                stopping = true
                rc = mosquitto_disconnect(mosq)
                if rc != success { return end(stoppedBy: "stopped") }
            }
            rc = mosquitto_loop(mosq, Self.loopTimeoutMilliseconds, 1)
            if rc != success { break }
            if connack == nil, ContinuousClock.now - started > settings.connectTimeout {
                return .failed("no CONNACK from \(settings.host):\(settings.port) within \(settings.connectTimeout)")
            }
        }
        if stopping { return end(stoppedBy: "stopped") }
        return end(stoppedBy: Self.describe(rc))
    }

    private func end(stoppedBy reason: String) -> MosquittoEnd {
        if let connack, connack != 0 {
            return .refused(ConnackCode(rawValue: connack) ?? .notAuthorized)
        }
        if isReady { return .closed(reason) }
        if connack == 0 { return .failed("link dropped before subscriptions completed: \(reason)") }
        return .failed("cannot connect to \(settings.host):\(settings.port): \(reason)")
    }

    /// Asks the loop to send DISCONNECT and end; safe from any thread.
    func stop() {
        stopRequested.withLock { $0 = true }
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

    func libraryLog(level: Int32, text: String) { onEvent(.log(level: level, text: text)) }

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
