import GatewayCore

// The gateway deletes children (`delete_sub_device_request` / `delete_sub_device_response`, spec §2.10).

/// UP `delete_sub_device_request`: device ids, ≤ 50.
public struct DeleteSubDeviceRequest: SubDeviceBatchRequest, Equatable, Codable {
    public var devices: [String]
    public init(devices: [String]) { self.devices = devices }
    public static func extensionInfo(of device: String) -> JSONObject? { nil }
}

/// DOWN `delete_sub_device_response`.
public struct DeleteSubDeviceResponse: Sendable, Equatable, Codable {
    public var successfulDevices: [String]
    public var failedDevices: [SubDeviceFailure]

    public init(successfulDevices: [String], failedDevices: [SubDeviceFailure]) {
        self.successfulDevices = successfulDevices
        self.failedDevices = failedDevices
    }

    enum CodingKeys: String, CodingKey { case successfulDevices = "successful_devices", failedDevices = "failed_devices" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successfulDevices = try c.decodeIfPresent([String].self, forKey: .successfulDevices) ?? []
        failedDevices = try c.decodeIfPresent([SubDeviceFailure].self, forKey: .failedDevices) ?? []
    }
}
