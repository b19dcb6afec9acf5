import GatewayCore
import PCP
/// One configured NB-IoT module, as the device list describes it.
public struct NBIoTDevice: Sendable, Equatable {
    /// The platform's node id: the module's IMEI, also its LwM2M endpoint name.
    public var nodeId: String
    public var name: String?
    public var productId: String
    /// DTLS-PSK identity; the node id unless configured otherwise.
    public var pskIdentity: String
    /// The connection-server PSK, as bytes. Empty for a non-secure device.
    public var psk: [UInt8]
    /// Secure devices must come over DTLS; non-secure ones over plain CoAP (if that listener is on).
    public var secure: Bool
    /// Data resources; nil means "chosen from the object list at registration".
    public var resources: DataResources?
    /// Whether the product upgrades over PCP: the device list's `pcp` column answers both
    /// product questions of the recognition rule (upgrade capability, and PCP as its protocol).
    public var pcpUpgradeCapable: Bool
    /// The bootstrap PSK (the list's `bootstrapPsk`): the key the module bootstraps with. Empty:
    /// the module is not provisioned by bootstrap.
    public var bootstrapPSK: [UInt8]
    /// The list's `lifeTime`, in seconds, if given (written to the module by bootstrap).
    public var lifetime: Int?

    public init(nodeId: String, name: String? = nil, productId: String, pskIdentity: String? = nil,
                psk: [UInt8] = [], secure: Bool = true, resources: DataResources? = nil, pcpUpgradeCapable: Bool = false,
                bootstrapPSK: [UInt8] = [], lifetime: Int? = nil) {
        self.nodeId = nodeId
        self.name = name
        self.productId = productId
        self.pskIdentity = pskIdentity ?? nodeId
        self.psk = psk
        self.secure = secure
        self.resources = resources
        self.pcpUpgradeCapable = pcpUpgradeCapable
        self.bootstrapPSK = bootstrapPSK
        self.lifetime = lifetime
    }

    /// A secure device provisioned by bootstrap whose connection PSK edgegw generates (the list
    /// gives none): until it has one, the LwM2M server refuses its handshakes.
    public var needsGeneratedKey: Bool { secure && psk.isEmpty && !bootstrapPSK.isEmpty }
}

extension NBIoTDevice {
    /// The platform's PCP-or-business-data rule (spec §2.9) for this device's payload: anything
    /// but `.pcp` is business data and goes to the codec.
    public func pcpRecognition(_ payload: [UInt8]) -> PCPRecognition.Verdict {
        PCPRecognition.classify(payload, upgradeCapable: pcpUpgradeCapable, upgradeProtocolIsPCP: pcpUpgradeCapable)
    }
}

/// Looks up devices by node id and by PSK identity. Called from the CoAP thread, so it must be
/// cheap and must not block; the gateway may swap the contents at run time.
public protocol NBIoTDeviceDirectory: Sendable {
    func device(nodeId: String) -> NBIoTDevice?
    /// The key for a PSK identity, or nil to refuse the handshake.
    func pskKey(identity: String) -> [UInt8]?
}

/// A directory over a fixed list; replace the list with `replace(_:)` (thread-safe).
public final class StaticDeviceDirectory: NBIoTDeviceDirectory, Sendable {
    private struct Index {
        var byNodeId: [String: NBIoTDevice] = [:]
        var byIdentity: [String: NBIoTDevice] = [:]
    }

    private let index = Locked(Index())

    public init(_ devices: [NBIoTDevice]) { replace(devices) }

    public func replace(_ devices: [NBIoTDevice]) {
        var nodes: [String: NBIoTDevice] = [:]
        var identities: [String: NBIoTDevice] = [:]
        for device in devices {
            nodes[device.nodeId] = device
            if device.secure && !device.psk.isEmpty { identities[device.pskIdentity] = device }
        }
        index.withLock { $0 = Index(byNodeId: nodes, byIdentity: identities) }
    }

    /// Adds or replaces one device (a key generated at run time).
    public func update(_ device: NBIoTDevice) {
        index.withLock { index in
            if let old = index.byNodeId[device.nodeId], index.byIdentity[old.pskIdentity]?.nodeId == device.nodeId {
                index.byIdentity[old.pskIdentity] = nil
            }
            index.byNodeId[device.nodeId] = device
            if device.secure && !device.psk.isEmpty { index.byIdentity[device.pskIdentity] = device }
        }
    }

    public func device(nodeId: String) -> NBIoTDevice? { index.withLock { $0.byNodeId[nodeId] } }
    public func pskKey(identity: String) -> [UInt8]? { index.withLock { $0.byIdentity[identity]?.psk } }
    public var count: Int { index.withLock { $0.byNodeId.count } }
}
