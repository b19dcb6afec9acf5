import Foundation

/// Where a child device is attached on the field side.
public enum ChildSource: String, Sendable, CaseIterable, Codable {
    case modbus
    case lwm2m
    /// A framed binary device on a serial line, decoded by its product's codec.
    case serial
}

/// A child's status as the platform's `sub_device_update_status` carries it.
public enum ChildStatus: String, Sendable, CaseIterable, Codable {
    case online = "ONLINE"
    case offline = "OFFLINE"
    /// The platform's NB-IoT "abnormal": no data for 25 h (spec lwm2m-coap §4.10).
    case abnormal = "ABNORMAL"
}

/// A field device as the gateway knows it. `deviceId` is the cloud's id, known once the
/// platform has added the child.
public struct ChildDevice: Sendable, Equatable {
    public var nodeId: String
    public var deviceId: String?
    public var productId: String
    public var source: ChildSource
    public var status: ChildStatus
    public var lastSeen: Date?
    public var name: String?

    public init(nodeId: String, deviceId: String? = nil, productId: String, source: ChildSource,
                status: ChildStatus = .offline, lastSeen: Date? = nil, name: String? = nil) {
        self.nodeId = nodeId
        self.deviceId = deviceId
        self.productId = productId
        self.source = source
        self.status = status
        self.lastSeen = lastSeen
        self.name = name
    }
}
