import GatewayCore
/// Where and how the session connects. The gateway maps `[cloud]` in edgegw.toml onto this.
public struct CloudSessionSettings: Sendable, Equatable {
    /// MQTTS, the platform's default (spec §1.4).
    public static let defaultTLSPort = GatewayConfig.Cloud.defaultTLSPort
    /// Plain MQTT, only when the configuration asks for it.
    public static let defaultPlainPort = GatewayConfig.Cloud.defaultPlainPort
    /// Keepalive the platform accepts; outside it the platform answers CONNACK 2.
    public static let keepaliveRange = GatewayConfig.Cloud.keepaliveRange
    public static let defaultKeepalive = GatewayConfig.Cloud.defaultKeepalive
    /// PUBLISHes libmosquitto keeps in flight (sent, PUBACK pending) per connection.
    public static let defaultMaxInflight = 100
    /// How long a TCP + TLS + CONNECT exchange may take before the attempt counts as failed.
    public static let defaultConnectTimeout: Duration = .seconds(30)
    /// Downlink messages buffered for the consumer of `incoming`; beyond it they are logged and dropped.
    public static let defaultIncomingBuffer = 10_000

    /// How the broker's certificate is checked.
    public enum Transport: Sendable, Equatable {
        /// TLS with the peer's chain and host name verified against `caFile` (a PEM bundle, e.g.
        /// the platform's `huaweicloud-iot-root-ca-list.pem`), or against the system trust store when nil.
        case tls(caFile: String?)
        /// No TLS: test brokers and private networks only.
        case plain
    }

    public var host: String
    public var port: Int
    public var transport: Transport
    /// Seconds, within `keepaliveRange`.
    public var keepalive: Int
    /// Topic filters subscribed with QoS 1 after every CONNACK, before the session reports "connected".
    public var subscriptions: [String]
    public var maxInflight: Int
    public var connectTimeout: Duration
    public var incomingBuffer: Int
    public var reconnect: ReconnectPolicy

    public init(host: String, port: Int? = nil, transport: Transport = .tls(caFile: nil),
                keepalive: Int = Self.defaultKeepalive, subscriptions: [String] = [],
                maxInflight: Int = Self.defaultMaxInflight, connectTimeout: Duration = Self.defaultConnectTimeout,
                incomingBuffer: Int = Self.defaultIncomingBuffer, reconnect: ReconnectPolicy = ReconnectPolicy()) {
        self.host = host
        if let port {
            self.port = port
        } else if case .plain = transport {
            self.port = Self.defaultPlainPort
        } else {
            self.port = Self.defaultTLSPort
        }
        self.transport = transport
        self.keepalive = keepalive
        self.subscriptions = subscriptions
        self.maxInflight = maxInflight
        self.connectTimeout = connectTimeout
        self.incomingBuffer = incomingBuffer
        self.reconnect = reconnect
    }

    /// Problems that would make every connection fail, as sentences for `edgegw check`.
    public func validate() -> [String] {
        var problems: [String] = []
        if host.isEmpty { problems.append("cloud host is empty") }
        if !(1...65535).contains(port) { problems.append("cloud port \(port) is outside 1-65535") }
        if !Self.keepaliveRange.contains(keepalive) {
            problems.append("keepalive \(keepalive) s is outside \(Self.keepaliveRange.lowerBound)-\(Self.keepaliveRange.upperBound) s (the platform refuses it with CONNACK 2)")
        }
        if maxInflight < 1 { problems.append("max in-flight \(maxInflight) must be at least 1") }
        if incomingBuffer < 1 { problems.append("incoming buffer \(incomingBuffer) must be at least 1") }
        for topic in subscriptions where topic.isEmpty { problems.append("an empty subscription topic") }
        return problems
    }
}

/// The CONNECT identity for one attempt. Recomputed before every attempt, because the
/// platform's ClientId and password carry the current UTC hour.
public struct CloudCredentials: Sendable, Equatable {
    public var clientId: String
    public var username: String
    public var password: String
    /// True for sign type 1: the platform checks the ClientId's hour, so a refusal may mean clock skew.
    public var timestampChecked: Bool

    public init(clientId: String, username: String, password: String, timestampChecked: Bool = false) {
        self.clientId = clientId
        self.username = username
        self.password = password
        self.timestampChecked = timestampChecked
    }
}

/// Whether the session can publish now. `generation` numbers connections from 1, so
/// consumers can tell a fresh connection (re-sync, replay) from a repeated event.
public enum CloudConnectionState: Sendable, Equatable {
    case disconnected
    case connected(generation: UInt64)
}

/// One downlink PUBLISH.
public struct CloudMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]

    public init(topic: String, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
    }
}

/// Identifies one QoS 1 PUBLISH until its PUBACK: message ids restart on every connection.
public struct CloudPublishReceipt: Sendable, Hashable {
    public var generation: UInt64
    public var messageId: Int32

    public init(generation: UInt64, messageId: Int32) {
        self.generation = generation
        self.messageId = messageId
    }
}

/// Why a publish did not go out.
public enum CloudPublishError: Error, Sendable, Equatable {
    /// No connection now; try again after the next `.connected`.
    case notConnected
    /// This message can never be published (invalid topic, not UTF-8, too large).
    case rejected(String)
    /// A transient failure (out of memory, broken socket).
    case failed(String)
}

/// What the outbox pump needs from a session; the real one is `CloudSession`.
public protocol CloudPublishing: Sendable {
    /// Hands one QoS 1 PUBLISH to the connection; its PUBACK arrives on `acknowledgements()`.
    func publish(topic: String, payload: [UInt8]) throws(CloudPublishError) -> CloudPublishReceipt
    /// Current state first, then every change. One stream per caller.
    func stateChanges() -> AsyncStream<CloudConnectionState>
    /// Every PUBACK from now on. One stream per caller.
    func acknowledgements() -> AsyncStream<CloudPublishReceipt>
}
