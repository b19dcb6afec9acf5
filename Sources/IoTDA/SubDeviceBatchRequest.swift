import GatewayCore

// What the gateway's add, delete and update child requests share: the limits, the split into
// requests of at most 50 children, and the failure entry of delete/update/status responses.

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

/// The answer to a batch request (`add_sub_device_response`, `update_sub_device_response`): the
/// devices done and the ones refused, each list absent when empty.
public struct SubDeviceBatchResponse<Failure: Codable & Sendable & Equatable>: Sendable, Equatable, Codable {
    public var successfulDevices: [SubDeviceInfo]
    public var failedDevices: [Failure]

    public init(successfulDevices: [SubDeviceInfo], failedDevices: [Failure]) {
        self.successfulDevices = successfulDevices
        self.failedDevices = failedDevices
    }

    enum CodingKeys: String, CodingKey { case successfulDevices = "successful_devices", failedDevices = "failed_devices" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successfulDevices = try c.decodeIfPresent([SubDeviceInfo].self, forKey: .successfulDevices) ?? []
        failedDevices = try c.decodeIfPresent([Failure].self, forKey: .failedDevices) ?? []
    }
}
