import Foundation

/// `edgegw status`: what the daemon is doing, from the snapshots it keeps (never a wait on the
/// cloud or the field).
public struct AdminStatus: Sendable, Codable, Equatable {
    public struct CloudLink: Sendable, Codable, Equatable {
        /// `connected` or `disconnected`.
        public var state: String
        public var since: Date
        public var endpoint: String
        public var lastError: String?
        public var lastErrorAt: Date?

        public init(state: String, since: Date, endpoint: String, lastError: String? = nil, lastErrorAt: Date? = nil) {
            self.state = state
            self.since = since
            self.endpoint = endpoint
            self.lastError = lastError
            self.lastErrorAt = lastErrorAt
        }
    }

    public struct Outbox: Sendable, Codable, Equatable {
        public var messages: Int
        public var bytes: Int
        /// Age of the oldest message waiting, in seconds (nil when empty).
        public var oldestAgeSeconds: Double?
        public var dropped: Int

        public init(messages: Int, bytes: Int, oldestAgeSeconds: Double?, dropped: Int) {
            self.messages = messages
            self.bytes = bytes
            self.oldestAgeSeconds = oldestAgeSeconds
            self.dropped = dropped
        }
    }

    public struct Listener: Sendable, Codable, Equatable {
        public var name: String
        /// `udp`, `tcp` or `unix`.
        public var transport: String
        public var address: String
        public var port: Int?

        public init(name: String, transport: String, address: String, port: Int? = nil) {
            self.name = name
            self.transport = transport
            self.address = address
            self.port = port
        }
    }

    public var version: String
    public var pid: Int32
    public var started: Date
    public var uptimeSeconds: Double
    public var gatewayDeviceId: String
    public var cloud: CloudLink
    public var outbox: Outbox
    public var listeners: [Listener]
    /// Children by status (`ONLINE`, `OFFLINE`, `ABNORMAL`, `UNKNOWN`), and by kind and status.
    public var children: [String: Int]
    public var childrenByKind: [String: [String: Int]]
    public var configFile: String
    public var configLoaded: Date

    public init(version: String, pid: Int32, started: Date, uptimeSeconds: Double, gatewayDeviceId: String, cloud: CloudLink,
                outbox: Outbox, listeners: [Listener], children: [String: Int], childrenByKind: [String: [String: Int]],
                configFile: String, configLoaded: Date) {
        self.version = version
        self.pid = pid
        self.started = started
        self.uptimeSeconds = uptimeSeconds
        self.gatewayDeviceId = gatewayDeviceId
        self.cloud = cloud
        self.outbox = outbox
        self.listeners = listeners
        self.children = children
        self.childrenByKind = childrenByKind
        self.configFile = configFile
        self.configLoaded = configLoaded
    }
}

/// One child in `edgegw devices`.
public struct AdminDevice: Sendable, Codable, Equatable {
    public var nodeId: String
    /// The platform's device id, once the platform has added the child.
    public var deviceId: String?
    public var productId: String
    /// `modbus` or `nbiot`.
    public var kind: String
    /// `ONLINE`, `OFFLINE`, `ABNORMAL`, or `UNKNOWN` before the first poll or registration.
    public var status: String
    /// Last time the device answered or sent anything.
    public var lastSeen: Date?
    /// When its last values were collected.
    public var lastValue: Date?
    /// Modbus: the bus and unit id (`tcp:10.0.0.5:502 unit 1`); NB-IoT: the peer it last came from.
    public var address: String
    public var lastError: String?
    public var lastErrorAt: Date?

    public init(nodeId: String, deviceId: String?, productId: String, kind: String, status: String, lastSeen: Date?,
                lastValue: Date?, address: String, lastError: String? = nil, lastErrorAt: Date? = nil) {
        self.nodeId = nodeId
        self.deviceId = deviceId
        self.productId = productId
        self.kind = kind
        self.status = status
        self.lastSeen = lastSeen
        self.lastValue = lastValue
        self.address = address
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }
}
