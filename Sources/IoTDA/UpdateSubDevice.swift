import GatewayCore

// The gateway updates children (`update_sub_device_request` / `update_sub_device_response`, spec §2.10).

/// One child in an `update_sub_device_request`.
public struct SubDeviceUpdate: Sendable, Equatable, Codable {
    public var deviceId: String
    public var name: String?
    public var description: String?
    public var extensionInfo: JSONObject?

    public init(deviceId: String, name: String? = nil, description: String? = nil, extensionInfo: JSONObject? = nil) {
        self.deviceId = deviceId
        self.name = name
        self.description = description
        self.extensionInfo = extensionInfo
    }

    enum CodingKeys: String, CodingKey { case deviceId = "device_id", name, description, extensionInfo = "extension_info" }
}

/// UP `update_sub_device_request` (≤ 50 devices).
public struct UpdateSubDeviceRequest: SubDeviceBatchRequest, Equatable, Codable {
    public var devices: [SubDeviceUpdate]
    public init(devices: [SubDeviceUpdate]) { self.devices = devices }
    public static func extensionInfo(of device: SubDeviceUpdate) -> JSONObject? { device.extensionInfo }
}

/// DOWN `update_sub_device_response`.
public typealias UpdateSubDeviceResponse = SubDeviceBatchResponse<SubDeviceFailure>
