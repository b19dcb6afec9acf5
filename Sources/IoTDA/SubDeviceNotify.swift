import GatewayCore

// The platform tells the gateway which children were added or deleted (spec §2.10).

/// DOWN `add_sub_device_notify` and `delete_sub_device_notify`.
public struct SubDeviceNotify: Sendable, Equatable, Codable {
    public var devices: [SubDeviceInfo]
    /// The child-list version; stored and sent back in the next `sub_device_sync_request`.
    public var version: Int64

    public init(devices: [SubDeviceInfo], version: Int64) {
        self.devices = devices
        self.version = version
    }
}

/// UP `sub_device_sync_request`: the platform answers with add/delete notifies after `version`.
public struct SubDeviceSyncRequest: Sendable, Equatable, Codable {
    /// nil asks for everything.
    public var version: Int64?
    public init(version: Int64?) { self.version = version }
}
