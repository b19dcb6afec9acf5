import GatewayCore

// `$sub_device_discovery`: the platform asks the gateway to scan for children (spec §2.10).

/// DOWN `$sub_device_discovery` / `start_scan`.
public struct StartScan: Sendable, Equatable, Codable {
    public var protocolType: String?
    public var channel: String?
    public var parentDeviceId: String?
    /// An object per the table; the example sends `""` (E9), so any JSON is kept.
    public var scanSettings: JSONValue?

    public init(protocolType: String? = nil, channel: String? = nil, parentDeviceId: String? = nil, scanSettings: JSONValue? = nil) {
        self.protocolType = protocolType
        self.channel = channel
        self.parentDeviceId = parentDeviceId
        self.scanSettings = scanSettings
    }

    enum CodingKeys: String, CodingKey {
        case protocolType = "protocol", protocolTypeAlias = "protocol_type", channel, parentDeviceId = "parent_device_id",
             scanSettings = "scan_settings"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        protocolType = try c.decodeIfPresent(String.self, forKey: .protocolType)
            ?? c.decodeIfPresent(String.self, forKey: .protocolTypeAlias)
        channel = try c.decodeIfPresent(String.self, forKey: .channel)
        parentDeviceId = try c.decodeIfPresent(String.self, forKey: .parentDeviceId)
        scanSettings = try c.decodeIfPresent(JSONValue.self, forKey: .scanSettings)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(protocolType, forKey: .protocolType)
        try c.encodeIfPresent(channel, forKey: .channel)
        try c.encodeIfPresent(parentDeviceId, forKey: .parentDeviceId)
        try c.encodeIfPresent(scanSettings, forKey: .scanSettings)
    }
}

/// UP `$sub_device_discovery` / `scan_result`.
public struct ScanResult: Sendable, Equatable, Codable {
    public var devices: [SubDeviceInfo]?
    public init(devices: [SubDeviceInfo]?) { self.devices = devices }
}
