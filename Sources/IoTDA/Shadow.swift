import GatewayCore

/// UP `…/sys/shadow/get/request_id={id}` (the request_id is ours and unique).
public struct ShadowGetRequest: Sendable, Equatable, Codable {
    public var objectDeviceId: String?
    /// nil asks for the shadow of every service.
    public var serviceId: String?

    public init(objectDeviceId: String? = nil, serviceId: String? = nil) {
        self.objectDeviceId = objectDeviceId
        self.serviceId = serviceId
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", serviceId = "service_id" }
}

/// `desired` or `reported` section of a shadow.
public struct ShadowProperties: Sendable, Equatable, Codable {
    public var properties: JSONObject
    public var eventTime: String?

    public init(properties: JSONObject, eventTime: String? = nil) {
        self.properties = properties
        self.eventTime = eventTime
    }

    enum CodingKeys: String, CodingKey { case properties, eventTime = "event_time" }
}

public struct ShadowData: Sendable, Equatable, Codable {
    public var serviceId: String
    public var desired: ShadowProperties?
    public var reported: ShadowProperties?
    public var version: Int64?

    public init(serviceId: String, desired: ShadowProperties? = nil, reported: ShadowProperties? = nil, version: Int64? = nil) {
        self.serviceId = serviceId
        self.desired = desired
        self.reported = reported
        self.version = version
    }

    enum CodingKeys: String, CodingKey { case serviceId = "service_id", desired, reported, version }
}

/// DOWN `…/sys/shadow/get/response/request_id={id}`.
public struct ShadowGetResponse: Sendable, Equatable, Codable {
    /// Required by the documents: whose shadow this is.
    public var objectDeviceId: String
    public var shadow: [ShadowData]?

    public init(objectDeviceId: String, shadow: [ShadowData]?) {
        self.objectDeviceId = objectDeviceId
        self.shadow = shadow
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", shadow }
}
