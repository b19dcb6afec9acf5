import GatewayCore

// The child-device description shared by the `$sub_device_manager` and `$sub_device_discovery`
// events (spec §2.10): notifies, add/update responses, scan results.

/// The full `DeviceInfo` of notifies, add/update responses and scan results. Every field is
/// optional here because the documents themselves send `null` for "required" ones (E15);
/// consumers check what they need (`device_id` and `node_id` for a notify).
public struct SubDeviceInfo: Sendable, Equatable, Codable {
    public var parentDeviceId: String?
    public var nodeId: String?
    public var deviceId: String?
    public var name: String?
    public var description: String?
    public var manufacturerId: String?
    public var model: String?
    public var productId: String?
    public var fwVersion: String?
    public var swVersion: String?
    /// `ONLINE`, `OFFLINE` or `INACTIVE`.
    public var status: String?
    public var extensionInfo: JSONObject?

    public init(parentDeviceId: String? = nil, nodeId: String? = nil, deviceId: String? = nil, name: String? = nil,
                description: String? = nil, manufacturerId: String? = nil, model: String? = nil, productId: String? = nil,
                fwVersion: String? = nil, swVersion: String? = nil, status: String? = nil, extensionInfo: JSONObject? = nil) {
        self.parentDeviceId = parentDeviceId
        self.nodeId = nodeId
        self.deviceId = deviceId
        self.name = name
        self.description = description
        self.manufacturerId = manufacturerId
        self.model = model
        self.productId = productId
        self.fwVersion = fwVersion
        self.swVersion = swVersion
        self.status = status
        self.extensionInfo = extensionInfo
    }

    enum CodingKeys: String, CodingKey {
        case parentDeviceId = "parent_device_id", nodeId = "node_id", deviceId = "device_id", name, description,
             manufacturerId = "manufacturer_id", model, productId = "product_id", fwVersion = "fw_version",
             swVersion = "sw_version", status, extensionInfo = "extension_info"
    }
}
