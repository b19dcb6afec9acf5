import Foundation

/// What the CoAP thread reports to the async side.
public enum LwM2MServerEvent: Sendable, Equatable {
    case registered(RegistrationInfo)
    case updated(nodeId: String)
    case offline(nodeId: String, reason: OfflineReason)
    /// The device answered our Observe on its data resource; `latency` runs from its Register.
    case observing(nodeId: String, latency: Duration)
    /// The device refused the Observe (or never answered it).
    case observeFailed(nodeId: String, reason: String)
    /// A notification on the data resource.
    case uplink(nodeId: String, productId: String, payload: [UInt8], receivedAt: Date)
    /// The outcome of a `LwM2MServer.send(_:)`.
    case downlinkResult(tag: UInt64, nodeId: String, result: DownlinkDeliveryResult)
    /// The outcome of a `LwM2MServer.read(nodeId:path:tag:)`: the resource's value or why not.
    case resourceRead(tag: UInt64, nodeId: String, path: String, result: ResourceReadResult)
}

/// The answer to a one-shot GET of a device's resource.
public enum ResourceReadResult: Sendable, Equatable {
    /// 2.05 Content (or another 2.xx) with the resource's value as the device encoded it.
    case content(code: UInt8, payload: [UInt8])
    /// Refused (4.xx/5.xx: `.refused(code:)`), unanswered, reset, or the device not reachable.
    case failed(DownlinkDeliveryResult)
}

public struct RegistrationInfo: Sendable, Equatable {
    public var nodeId: String
    public var productId: String
    public var registrationId: String
    public var address: String
    public var lifetime: Int
    public var binding: String?
    public var resources: DataResources
    /// The data resource observed; nil when the object list announces none (nothing observed).
    public var observedPath: String?
    /// The object links of the Register, as parsed (the whole list, also when it came block-wise).
    public var objectLinks: [String]
    public var secure: Bool
}

extension RegistrationInfo {
    init<Instant>(_ registration: RegistrationTable<Instant>.Registration) {
        self.init(nodeId: registration.nodeId, productId: registration.productId, registrationId: registration.id,
                  address: registration.address, lifetime: registration.lifetime, binding: registration.binding,
                  resources: registration.resources, observedPath: registration.observedPath,
                  objectLinks: registration.objectLinks, secure: registration.transport != .udp)
    }
}

/// A binary write to a device's downlink resource, as a confirmable request; or (`read`) a
/// one-shot confirmable GET of one of its resources.
public struct Downlink: Sendable, Equatable {
    public var nodeId: String
    public var payload: [UInt8]
    /// Echoed in `.downlinkResult` (`.resourceRead` for a read) so the caller can match it.
    public var tag: UInt64
    /// Resource path; nil means the registration's downlink resource (`/19/1/0` or `/t/d`).
    public var path: String?
    /// A GET of `path` (no payload) instead of a write: its answer comes as `.resourceRead`.
    public var read: Bool

    public init(nodeId: String, payload: [UInt8], tag: UInt64, path: String? = nil, read: Bool = false) {
        self.nodeId = nodeId
        self.payload = payload
        self.tag = tag
        self.path = path
        self.read = read
    }

    /// The event that ends it when it cannot be sent or is not answered.
    func failed(_ result: DownlinkDeliveryResult) -> LwM2MServerEvent {
        guard read else { return .downlinkResult(tag: tag, nodeId: nodeId, result: result) }
        return .resourceRead(tag: tag, nodeId: nodeId, path: path ?? "", result: .failed(result))
    }
}

public enum DownlinkDeliveryResult: Sendable, Equatable {
    /// The device acknowledged (piggybacked response code, e.g. 2.04 = 68).
    case acknowledged(code: UInt8)
    /// The device answered with an error code (4.xx/5.xx).
    case refused(code: UInt8)
    /// No ACK after all retransmissions.
    case timedOut
    /// The device reset the request (RST).
    case reset
    /// No registration or no open session for the device.
    case notReachable
    case tooLarge
}
