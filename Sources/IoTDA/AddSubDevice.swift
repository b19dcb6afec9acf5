import GatewayCore

// The gateway adds children (`add_sub_device_request` / `add_sub_device_response`, spec §2.10).

/// One child in an `add_sub_device_request`.
public struct NewSubDevice: Sendable, Equatable, Codable {
    /// Defaults to the gateway's device id on the platform.
    public var parentDeviceId: String?
    public var nodeId: String
    /// Absent: the platform assigns `{product_id}_{node_id}`.
    public var deviceId: String?
    public var name: String?
    public var description: String?
    public var productId: String
    public var extensionInfo: JSONObject?

    public init(parentDeviceId: String? = nil, nodeId: String, deviceId: String? = nil, name: String? = nil,
                description: String? = nil, productId: String, extensionInfo: JSONObject? = nil) {
        self.parentDeviceId = parentDeviceId
        self.nodeId = nodeId
        self.deviceId = deviceId
        self.name = name
        self.description = description
        self.productId = productId
        self.extensionInfo = extensionInfo
    }

    /// The id the platform gives a child added without `device_id`.
    public var platformAssignedDeviceId: String { deviceId ?? "\(productId)_\(nodeId)" }

    enum CodingKeys: String, CodingKey {
        case parentDeviceId = "parent_device_id", nodeId = "node_id", deviceId = "device_id", name, description,
             productId = "product_id", extensionInfo = "extension_info"
    }
}

/// UP `add_sub_device_request` (≤ 50 devices; answered by `add_sub_device_response` with the same event_id).
public struct AddSubDeviceRequest: SubDeviceBatchRequest, Equatable, Codable {
    public var devices: [NewSubDevice]
    public init(devices: [NewSubDevice]) { self.devices = devices }
    public static func extensionInfo(of device: NewSubDevice) -> JSONObject? { device.extensionInfo }
}

/// A child the platform could not add.
public struct AddSubDeviceFailure: Sendable, Equatable, Codable {
    public var nodeId: String
    public var productId: String
    public var errorCode: String
    public var errorMsg: String

    public init(nodeId: String, productId: String, errorCode: String, errorMsg: String) {
        self.nodeId = nodeId
        self.productId = productId
        self.errorCode = errorCode
        self.errorMsg = errorMsg
    }

    enum CodingKeys: String, CodingKey { case nodeId = "node_id", productId = "product_id", errorCode = "error_code", errorMsg = "error_msg" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeId = try c.decodeIfPresent(String.self, forKey: .nodeId) ?? ""
        productId = try c.decodeIfPresent(String.self, forKey: .productId) ?? ""
        errorCode = try c.decodeLenientString(forKey: .errorCode)
        errorMsg = try c.decodeIfPresent(String.self, forKey: .errorMsg) ?? ""
    }
}

/// DOWN `add_sub_device_response`.
public typealias AddSubDeviceResponse = SubDeviceBatchResponse<AddSubDeviceFailure>
