import GatewayCore

// Child statuses reported by the gateway (spec §2.10).

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
