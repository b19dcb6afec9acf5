import GatewayCore

// Paras of the `$sub_device_manager` and `$sub_device_discovery` events (spec §2.10).

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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        parentDeviceId = try c.decodeIfPresent(String.self, forKey: .parentDeviceId)
        nodeId = try c.decodeIfPresent(String.self, forKey: .nodeId)
        deviceId = try c.decodeIfPresent(String.self, forKey: .deviceId)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        manufacturerId = try c.decodeIfPresent(String.self, forKey: .manufacturerId)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        productId = try c.decodeIfPresent(String.self, forKey: .productId)
        fwVersion = try c.decodeIfPresent(String.self, forKey: .fwVersion)
        swVersion = try c.decodeIfPresent(String.self, forKey: .swVersion)
        status = try c.decodeIfPresent(String.self, forKey: .status)
        extensionInfo = try c.decodeObjectIfPresent(forKey: .extensionInfo)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(parentDeviceId, forKey: .parentDeviceId)
        try c.encodeIfPresent(nodeId, forKey: .nodeId)
        try c.encodeIfPresent(deviceId, forKey: .deviceId)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encodeIfPresent(manufacturerId, forKey: .manufacturerId)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(productId, forKey: .productId)
        try c.encodeIfPresent(fwVersion, forKey: .fwVersion)
        try c.encodeIfPresent(swVersion, forKey: .swVersion)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeObjectIfPresent(extensionInfo, forKey: .extensionInfo)
    }
}

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

/// The status a gateway may report for a child.
public enum SubDeviceStatus: String, Sendable, Codable, CaseIterable {
    case online = "ONLINE"
    case offline = "OFFLINE"

    /// The platform knows only ONLINE and OFFLINE; a child that is "abnormal" locally is offline to it.
    public init(_ status: ChildStatus) {
        self = status == .online ? .online : .offline
    }
}

public struct DeviceStatus: Sendable, Equatable, Codable {
    public var deviceId: String
    public var status: SubDeviceStatus

    public init(deviceId: String, status: SubDeviceStatus) {
        self.deviceId = deviceId
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case deviceId = "device_id", status }
}

/// UP `sub_device_update_status`.
public struct SubDeviceStatusUpdate: Sendable, Equatable, Codable {
    /// A status update carries 1–100 entries (UG 2.1.2.7.4).
    public static let entriesPerUpdate = 1...100

    public var deviceStatuses: [DeviceStatus]

    public init(deviceStatuses: [DeviceStatus]) { self.deviceStatuses = deviceStatuses }

    /// Coalesces to the latest status per child (first-seen order) and splits into updates of at
    /// most 100 entries. No entries gives no updates (an empty update is invalid).
    public static func split(_ statuses: [DeviceStatus], maxEntries: Int = entriesPerUpdate.upperBound) -> [SubDeviceStatusUpdate] {
        let limit = max(1, min(maxEntries, entriesPerUpdate.upperBound))
        var latest: [DeviceStatus] = []
        var index: [String: Int] = [:]
        for s in statuses {
            if let i = index[s.deviceId] { latest[i] = s } else { index[s.deviceId] = latest.count; latest.append(s) }
        }
        return stride(from: 0, to: latest.count, by: limit).map {
            SubDeviceStatusUpdate(deviceStatuses: Array(latest[$0..<min($0 + limit, latest.count)]))
        }
    }

    public func validate() throws(PayloadError) {
        guard Self.entriesPerUpdate.contains(deviceStatuses.count) else {
            throw PayloadError(.limitExceeded(field: "device_statuses", limit: Self.entriesPerUpdate.upperBound, actual: deviceStatuses.count),
                               "a status update carries 1–100 entries, got \(deviceStatuses.count)")
        }
    }

    enum CodingKeys: String, CodingKey { case deviceStatuses = "device_statuses" }
}

/// DOWN `sub_device_update_status_response`. Not in the documents we hold: the English outline
/// lists "Responding to a Request for Updating Child Device Statuses" without a schema; this is the
/// shape public device SDKs decode. Read leniently so the answer to every status update is not an error.
public struct SubDeviceStatusResponse: Sendable, Equatable, Codable {
    public struct Accepted: Sendable, Equatable, Codable {
        public var deviceId: String
        public var status: String?

        public init(deviceId: String, status: String? = nil) {
            self.deviceId = deviceId
            self.status = status
        }

        enum CodingKeys: String, CodingKey { case deviceId = "device_id", status }
    }

    public var successfulDevices: [Accepted]
    public var failedDevices: [SubDeviceFailure]

    public init(successfulDevices: [Accepted], failedDevices: [SubDeviceFailure]) {
        self.successfulDevices = successfulDevices
        self.failedDevices = failedDevices
    }

    enum CodingKeys: String, CodingKey { case successfulDevices = "successful_devices", failedDevices = "failed_devices" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successfulDevices = try c.decodeIfPresent([Accepted].self, forKey: .successfulDevices) ?? []
        failedDevices = try c.decodeIfPresent([SubDeviceFailure].self, forKey: .failedDevices) ?? []
    }
}

/// UP `get_products`.
public struct GetProducts: Sendable, Equatable, Codable {
    public var productIds: [String]
    public init(productIds: [String]) { self.productIds = productIds }
    enum CodingKeys: String, CodingKey { case productIds = "product_ids" }
}

/// DOWN `get_products_response`. `ProductInfo` is not defined by the documents: kept as raw JSON.
public struct GetProductsResponse: Sendable, Equatable, Codable {
    public var products: [JSONValue]
    public init(products: [JSONValue]) { self.products = products }
}

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
        try c.encodeValueIfPresent(scanSettings, forKey: .scanSettings)
    }
}

/// UP `$sub_device_discovery` / `scan_result`.
public struct ScanResult: Sendable, Equatable, Codable {
    public var devices: [SubDeviceInfo]?
    public init(devices: [SubDeviceInfo]?) { self.devices = devices }
}

/// Limits shared by the add/delete/update child requests (UG 2.1.2.7.9–.14).
public enum SubDeviceRequestLimits {
    /// At most 50 devices per add, delete or update request.
    public static let maxDevicesPerRequest = 50
    /// The platform answers an add or delete request within 30 s; the gateway times out after that.
    public static let responseWindow: Duration = .seconds(30)
    /// `extension_info` of one child is at most 1K (read as 1024 bytes of compact JSON).
    public static let maxExtensionInfoBytes = 1024
    /// A platform-generated event_id is 36 characters.
    public static let generatedEventIdLength = 36

    static func chunks<T>(_ items: [T], _ maxDevices: Int) -> [[T]] {
        let limit = max(1, min(maxDevices, maxDevicesPerRequest))
        return stride(from: 0, to: items.count, by: limit).map { Array(items[$0..<min($0 + limit, items.count)]) }
    }

    static func validate(count: Int) throws(PayloadError) {
        guard (1...maxDevicesPerRequest).contains(count) else {
            throw PayloadError(.limitExceeded(field: "devices", limit: maxDevicesPerRequest, actual: count),
                               "a child add/delete/update request carries 1–\(maxDevicesPerRequest) devices, got \(count)")
        }
    }

    static func validate(extensionInfo: JSONObject?) throws(PayloadError) {
        guard let extensionInfo else { return }
        let size = extensionInfo.encodedSize
        guard size <= maxExtensionInfoBytes else {
            throw PayloadError(.limitExceeded(field: "extension_info", limit: maxExtensionInfoBytes, actual: size),
                               "extension_info is \(size) bytes, the platform allows \(maxExtensionInfoBytes)")
        }
    }
}

/// An add, delete or update child request: split into requests of at most 50 children, and
/// checked against the limits before it goes up.
public protocol SubDeviceBatchRequest: Sendable {
    associatedtype Device: Sendable
    var devices: [Device] { get }
    init(devices: [Device])
    /// A child's `extension_info` (deletes carry only device ids).
    static func extensionInfo(of device: Device) -> JSONObject?
}

extension SubDeviceBatchRequest {
    public static func split(_ devices: [Device], maxDevices: Int = SubDeviceRequestLimits.maxDevicesPerRequest) -> [Self] {
        SubDeviceRequestLimits.chunks(devices, maxDevices).map(Self.init)
    }

    public func validate() throws(PayloadError) {
        try SubDeviceRequestLimits.validate(count: devices.count)
        for device in devices { try SubDeviceRequestLimits.validate(extensionInfo: Self.extensionInfo(of: device)) }
    }
}

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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        parentDeviceId = try c.decodeIfPresent(String.self, forKey: .parentDeviceId)
        nodeId = try c.decode(String.self, forKey: .nodeId)
        deviceId = try c.decodeIfPresent(String.self, forKey: .deviceId)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        productId = try c.decode(String.self, forKey: .productId)
        extensionInfo = try c.decodeObjectIfPresent(forKey: .extensionInfo)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(parentDeviceId, forKey: .parentDeviceId)
        try c.encode(nodeId, forKey: .nodeId)
        try c.encodeIfPresent(deviceId, forKey: .deviceId)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encode(productId, forKey: .productId)
        try c.encodeObjectIfPresent(extensionInfo, forKey: .extensionInfo)
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
public struct AddSubDeviceResponse: Sendable, Equatable, Codable {
    public var successfulDevices: [SubDeviceInfo]
    public var failedDevices: [AddSubDeviceFailure]

    public init(successfulDevices: [SubDeviceInfo], failedDevices: [AddSubDeviceFailure]) {
        self.successfulDevices = successfulDevices
        self.failedDevices = failedDevices
    }

    enum CodingKeys: String, CodingKey { case successfulDevices = "successful_devices", failedDevices = "failed_devices" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successfulDevices = try c.decodeIfPresent([SubDeviceInfo].self, forKey: .successfulDevices) ?? []
        failedDevices = try c.decodeIfPresent([AddSubDeviceFailure].self, forKey: .failedDevices) ?? []
    }
}

/// UP `delete_sub_device_request`: device ids, ≤ 50.
public struct DeleteSubDeviceRequest: SubDeviceBatchRequest, Equatable, Codable {
    public var devices: [String]
    public init(devices: [String]) { self.devices = devices }
    public static func extensionInfo(of device: String) -> JSONObject? { nil }
}

/// A child the platform could not delete or update.
public struct SubDeviceFailure: Sendable, Equatable, Codable {
    public var deviceId: String
    public var errorCode: String
    public var errorMsg: String

    public init(deviceId: String, errorCode: String, errorMsg: String) {
        self.deviceId = deviceId
        self.errorCode = errorCode
        self.errorMsg = errorMsg
    }

    enum CodingKeys: String, CodingKey { case deviceId = "device_id", errorCode = "error_code", errorMsg = "error_msg" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceId = try c.decode(String.self, forKey: .deviceId)
        errorCode = try c.decodeLenientString(forKey: .errorCode)
        errorMsg = try c.decodeIfPresent(String.self, forKey: .errorMsg) ?? ""
    }
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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceId = try c.decode(String.self, forKey: .deviceId)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        extensionInfo = try c.decodeObjectIfPresent(forKey: .extensionInfo)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(deviceId, forKey: .deviceId)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encodeObjectIfPresent(extensionInfo, forKey: .extensionInfo)
    }
}

/// UP `update_sub_device_request` (≤ 50 devices).
public struct UpdateSubDeviceRequest: SubDeviceBatchRequest, Equatable, Codable {
    public var devices: [SubDeviceUpdate]
    public init(devices: [SubDeviceUpdate]) { self.devices = devices }
    public static func extensionInfo(of device: SubDeviceUpdate) -> JSONObject? { device.extensionInfo }
}

/// DOWN `update_sub_device_response`.
public struct UpdateSubDeviceResponse: Sendable, Equatable, Codable {
    public var successfulDevices: [SubDeviceInfo]
    public var failedDevices: [SubDeviceFailure]

    public init(successfulDevices: [SubDeviceInfo], failedDevices: [SubDeviceFailure]) {
        self.successfulDevices = successfulDevices
        self.failedDevices = failedDevices
    }

    enum CodingKeys: String, CodingKey { case successfulDevices = "successful_devices", failedDevices = "failed_devices" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successfulDevices = try c.decodeIfPresent([SubDeviceInfo].self, forKey: .successfulDevices) ?? []
        failedDevices = try c.decodeIfPresent([SubDeviceFailure].self, forKey: .failedDevices) ?? []
    }
}
