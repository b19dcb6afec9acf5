import Foundation
import PCP

// A simulated device: its configuration, the events the simulator reports about it, and the
// state the CoAP thread keeps for it.

extension NBIoTDeviceSimulator {
    public struct Device: Sendable, Equatable {
        public var endpoint: String
        public var pskIdentity: String
        public var psk: [UInt8]
        public var lifetime: Int
        /// Link-format object list sent in the Register; `</t/d>` makes it the TUP flavour.
        public var objectLinks: String
        /// Plain CoAP instead of DTLS.
        public var plain: Bool
        /// The module's side of PCP (software upgrades); nil: PCP frames are business data to it.
        public var pcp: PCPPersonality?
        /// What the factory burnt in for bootstrap: `bootstrap(_:)` runs client-initiated
        /// bootstrap with it, and the module then registers with the account it was written.
        public var bootstrap: BootstrapAccount?

        public init(endpoint: String, pskIdentity: String? = nil, psk: [UInt8], lifetime: Int = 300,
                    objectLinks: String = "</1/0>,</3/0>,</19/0>,</19/1>", plain: Bool = false,
                    pcp: PCPPersonality? = nil, bootstrap: BootstrapAccount? = nil) {
            self.bootstrap = bootstrap
            self.endpoint = endpoint
            self.pskIdentity = pskIdentity ?? endpoint
            self.psk = psk
            self.lifetime = lifetime
            self.objectLinks = objectLinks
            self.plain = plain
            self.pcp = pcp
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
        /// What the module's PCP side did (devices with a `pcp` personality).
        case pcp(device: Int, PCPDeviceEvent)
        /// The bootstrap server's answer to `POST /bs`.
        case bootstrapAnswered(device: Int, code: String)
        /// A request of the bootstrap server, as the module answered it.
        case bootstrapRequest(device: Int, method: String, path: String, code: String)
        /// A Bootstrap-Write arrived in this Content-Format (nil: the request named none).
        case bootstrapWrite(device: Int, path: String, contentFormat: UInt16?)
        /// Bootstrap-Finish: the module was written `serverURI` and a key, and registers there now.
        case bootstrapped(device: Int, serverURI: String)
    }

    public struct BootstrapAccount: Sendable, Equatable {
        public var port: UInt16
        public var psk: [UInt8]
        /// The PSK identity for the bootstrap server; the endpoint when nil.
        public var identity: String?
        /// Whether the module answers Bootstrap-Discover (LwM2M 1.1) or 4.04 (1.0).
        public var discover: Bool
        /// The content format the module asks the writes in (`pct=` of its `POST /bs`, LwM2M 1.1):
        /// 110 SenML-JSON, 112 SenML-CBOR, 11542 TLV; nil asks for none, as a 1.0 module does.
        public var preferredFormat: UInt16?
        public init(port: UInt16, psk: [UInt8], identity: String? = nil, discover: Bool = true, preferredFormat: UInt16? = nil) {
            self.port = port
            self.psk = psk
            self.identity = identity
            self.discover = discover
            self.preferredFormat = preferredFormat
        }
    }

    enum Command {
        case add(Device)
        case register(Int)
        case update(Int)
        case deregister(Int)
        case notify(Int, [UInt8], confirmable: Bool)
        case sleep(Int)
        case wake(Int, reregister: Bool)
        case reboot(Int)
        /// A PCP frame to send up once the data resource is observed.
        case pcpSend(Int, [UInt8])
        case powerLoss(Int)
        case powerOn(Int)
        case bootstrap(Int)
        case bootstrapDone(Int)
    }

    final class DeviceState {
        var device: Device
        var session: OpaquePointer?
        var sessionStartedAt: ContinuousClock.Instant?
        var registerSentAt: ContinuousClock.Instant?
        var location: String?
        var observeToken: [UInt8]?
        var observePath: String?
        var observeSequence: UInt32 = 2
        var pendingTokens: [UInt64: String] = [:]
        var pcp: PCPDeviceSide<ContinuousClock.Instant>?
        /// PCP frames waiting for the server's Observe (after a reboot or a wake).
        var pcpOutbox: [[UInt8]] = []
        /// The fragment asked for and when it was first asked (retries keep the first time).
        var fragmentAsked: (index: UInt16, at: ContinuousClock.Instant)?
        /// The session with the bootstrap server, while bootstrapping.
        var bootstrapSession: OpaquePointer?
        /// What the bootstrap server wrote: the Security instance's resources by id.
        var writtenSecurity: [UInt16: [UInt8]] = [:]
        /// Where the written account points (host, port), once bootstrapped.
        var serverOverride: (host: String, port: UInt16)?
        init(device: Device) {
            self.device = device
            pcp = device.pcp.map { PCPDeviceSide(personality: $0) }
        }
    }
}
