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

        public init(endpoint: String, pskIdentity: String? = nil, psk: [UInt8], lifetime: Int = 300,
                    objectLinks: String = "</1/0>,</3/0>,</19/0>,</19/1>", plain: Bool = false,
                    pcp: PCPPersonality? = nil) {
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
        init(device: Device) {
            self.device = device
            pcp = device.pcp.map { PCPDeviceSide(personality: $0) }
        }
    }
}
