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

    /// One serial port's counters (serial devices that are not Modbus).
    public struct SerialPort: Sendable, Codable, Equatable {
        public var port: String
        public var open: Bool
        public var sharedWithModbus: Bool
        public var frames: Int
        public var checksumFailures: Int
        public var resyncs: Int
        /// Candidates refused for a length beyond the bound, cut short, or malformed.
        public var rejected: Int
        public var requests: Int
        public var timeouts: Int
        /// Times the port vanished (unplugged) and was closed to be reopened.
        public var lost: Int

        public init(port: String, open: Bool, sharedWithModbus: Bool, frames: Int, checksumFailures: Int, resyncs: Int,
                    rejected: Int, requests: Int, timeouts: Int, lost: Int) {
            self.port = port
            self.open = open
            self.sharedWithModbus = sharedWithModbus
            self.frames = frames
            self.checksumFailures = checksumFailures
            self.resyncs = resyncs
            self.rejected = rejected
            self.requests = requests
            self.timeouts = timeouts
            self.lost = lost
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
    /// Serial ports and their counters (absent from daemons without serial devices).
    public var serialPorts: [SerialPort]?

    public init(version: String, pid: Int32, started: Date, uptimeSeconds: Double, gatewayDeviceId: String, cloud: CloudLink,
                outbox: Outbox, listeners: [Listener], children: [String: Int], childrenByKind: [String: [String: Int]],
                configFile: String, configLoaded: Date, serialPorts: [SerialPort]? = nil) {
        self.serialPorts = serialPorts
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
    /// `modbus`, `serial` or `nbiot`.
    public var kind: String
    /// `ONLINE`, `OFFLINE`, `ABNORMAL`, or `UNKNOWN` before the first poll or registration.
    public var status: String
    /// Last time the device answered or sent anything.
    public var lastSeen: Date?
    /// When its last values were collected.
    public var lastValue: Date?
    /// Modbus: the bus and unit id (`tcp:10.0.0.5:502 unit 1`); serial: the port and address
    /// (`serial:/dev/ttyUSB1 address 1`); NB-IoT: the peer it last came from.
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
