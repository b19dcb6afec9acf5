import Foundation

/// `edgegw.toml`: who the gateway is, where the cloud is, what it listens on, where state lives.
/// Paths are resolved against the config file's folder. The commented sample under
/// `etc/edgegw/edgegw.toml` is the reference for every key.
public struct GatewayConfig: Sendable, Equatable {
    public var gateway: Identity
    public var cloud: Cloud
    public var listeners: Listeners
    public var store: StoreSettings
    public var log: LogSettings
    public var limits: Limits
    public var paths: Paths
    /// `[upgrade]`: PCP upgrades of the NB-IoT children from one package cache (UpgradeSettings.swift).
    public var upgrade: Upgrade = Upgrade()
    /// `[metrics]`: the Prometheus endpoint (MetricsSettings.swift).
    public var metrics: Metrics = Metrics()
    /// `[admin]`: the local admin socket (AdminSettings.swift).
    public var admin: Admin = Admin()

    public struct Identity: Sendable, Equatable {
        /// The gateway's device_id on the platform.
        public var deviceId: String
        /// File holding the device secret (mode 0600).
        public var secretFile: String
    }

    public struct Cloud: Sendable, Equatable {
        public static let keepaliveRange: ClosedRange<Int> = 30...1200
        public static let defaultKeepalive = 120
        public static let defaultTLSPort = 8883
        public static let defaultPlainPort = 1883
        public static let defaultMessagesPerSecond = 50
        public static let defaultBytesPerSecond = 1_048_576

        public var host: String
        public var port: Int
        public var tls: Bool
        /// CA bundle that signs the platform's certificate; required when `tls`.
        public var caFile: String?
        public var signType: SignType
        public var keepaliveSeconds: Int
        public var maxMessagesPerSecond: Int
        public var maxBytesPerSecond: Int
    }

    public struct Listener: Sendable, Equatable {
        public var enabled: Bool
        public var port: Int
        /// Addresses to bind; `::` takes IPv6 and, on Linux, IPv4 too.
        public var bind: [String]
    }

    public struct Listeners: Sendable, Equatable {
        public static let defaultCoAPPort = 5683
        public static let defaultCoAPSPort = 5684
        public static let defaultBootstrapPort = 5685

        /// Plain CoAP: off unless configured, since it has no authentication.
        public var coap: Listener
        /// CoAP over DTLS-PSK.
        public var coaps: Listener
        /// LwM2M bootstrap server (DTLS-PSK with the bootstrap keys).
        public var bootstrap: Listener
    }

    public struct StoreSettings: Sendable, Equatable {
        public static let defaultOutboxMaxMiB = 256
        public var stateDirectory: String
        public var outboxMaxBytes: Int
    }

    public enum LogLevel: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public struct LogSettings: Sendable, Equatable {
        public var level: LogLevel
    }

    public struct Limits: Sendable, Equatable {
        public static let defaultMaxDTLSHandshakes = 1000
        public static let defaultUDPReceiveBufferBytes = 4 * 1024 * 1024
        public static let defaultShutdownSeconds = 10

        /// DTLS handshakes in progress at once (libcoap's default of 100 drops bursts).
        public var maxDTLSHandshakes: Int
        /// SO_RCVBUF for the CoAP sockets (the kernel default of 212 KB overflows in bursts).
        public var udpReceiveBufferBytes: Int
        /// How long a graceful shutdown may take before services are cancelled.
        public var shutdownSeconds: Int
    }

    public struct Paths: Sendable, Equatable {
        /// Folder of product files (`*.toml`).
        public var products: String
        /// Folder of Modbus device files (`*.toml`).
        public var devices: String
        /// The NB-IoT device list (CSV or TOML); absent means none.
        public var nbiotDevices: String?
    }
}
