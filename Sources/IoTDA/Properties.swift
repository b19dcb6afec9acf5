import Foundation
import GatewayCore

/// One service's properties (`ServiceProperty` in the documents).
public struct ServiceProperty: Sendable, Equatable, Codable {
    public var serviceId: String
    public var properties: JSONObject
    /// `yyyyMMdd'T'HHmmss'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`; absent means "when the platform received it".
    public var eventTime: String?

    /// How a collection time is written into `event_time`.
    public enum TimeFormat: Sendable, Equatable {
        /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`: property reports, device and gateway batch (UG 2.1.2.8.1–2).
        case milliseconds
        /// `yyyyMMdd'T'HHmmss'Z'`: the only form documented for a property-get response (UG 2.1.2.8.4).
        case seconds
    }

    public init(serviceId: String, properties: JSONObject, eventTime: String? = nil) {
        self.serviceId = serviceId
        self.properties = properties
        self.eventTime = eventTime
    }

    /// A field report as the cloud gets it. Reports carry milliseconds, so that readings taken
    /// within one second keep distinct, ordered times on the platform.
    public init(_ report: ServiceReport, timeFormat: TimeFormat = .milliseconds) {
        self.init(serviceId: report.serviceId, properties: report.properties,
                  eventTime: report.eventTime.map(timeFormat == .milliseconds ? IoTDATime.eventTimeMillis : IoTDATime.eventTime))
    }

    /// The GatewayCore form, for handing a property set to a field handler.
    public var serviceReport: ServiceReport {
        ServiceReport(serviceId: serviceId, properties: properties, eventTime: eventTime.flatMap(IoTDATime.parse))
    }

    enum CodingKeys: String, CodingKey {
        case serviceId = "service_id", properties, eventTime = "event_time"
    }
}

/// UP `…/sys/properties/report`: the gateway's own properties (no object_device_id).
public struct PropertiesReport: Sendable, Equatable, Codable {
    public var services: [ServiceProperty]
    public init(services: [ServiceProperty]) { self.services = services }
}

/// One child's entry in a gateway batch report.
public struct DeviceProperties: Sendable, Equatable, Codable {
    public var deviceId: String
    public var services: [ServiceProperty]

    public init(deviceId: String, services: [ServiceProperty]) {
        self.deviceId = deviceId
        self.services = services
    }

    enum CodingKeys: String, CodingKey { case deviceId = "device_id", services }
}

/// UP `…/sys/gateway/sub_devices/properties/report`.
public struct BatchPropertyReport: Sendable, Equatable, Codable {
    /// A batch carries the properties of at most 100 child devices (UG 2.1.2.8.2).
    public static let maxDevicesPerReport = 100

    public var devices: [DeviceProperties]
    public init(devices: [DeviceProperties]) { self.devices = devices }

    /// Splits entries into reports of at most `maxDevices` distinct children each, in order.
    /// Entries of the same child that fall into one report are merged (their services concatenated),
    /// so the per-child order of readings is kept.
    public static func split(_ entries: [DeviceProperties], maxDevices: Int = maxDevicesPerReport) -> [BatchPropertyReport] {
        let limit = max(1, min(maxDevices, maxDevicesPerReport))
        var reports: [BatchPropertyReport] = []
        var current: [DeviceProperties] = []
        var index: [String: Int] = [:]
        for entry in entries {
            if let i = index[entry.deviceId] {
                current[i].services += entry.services
                continue
            }
            if current.count == limit {
                reports.append(BatchPropertyReport(devices: current))
                current = []
                index = [:]
            }
            index[entry.deviceId] = current.count
            current.append(entry)
        }
        if !current.isEmpty { reports.append(BatchPropertyReport(devices: current)) }
        return reports
    }

    /// Checks the 1–100 device bound before publishing.
    public func validate() throws(PayloadError) {
        guard (1...Self.maxDevicesPerReport).contains(devices.count) else {
            throw PayloadError(.limitExceeded(field: "devices", limit: Self.maxDevicesPerReport, actual: devices.count),
                               "a batch property report carries 1–\(Self.maxDevicesPerReport) devices, got \(devices.count)")
        }
    }
}

/// DOWN `…/sys/properties/set/request_id={id}`.
public struct PropertiesSetRequest: Sendable, Equatable, Codable {
    /// The child to set; nil means the gateway itself.
    public var objectDeviceId: String?
    public var services: [ServiceProperty]

    public init(objectDeviceId: String? = nil, services: [ServiceProperty]) {
        self.objectDeviceId = objectDeviceId
        self.services = services
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", services }

    /// Properties one set may write once repeated services are merged. Ours: the platform names
    /// no bound. Each property is at least one write to the field device (a Modbus transaction,
    /// tens of milliseconds on a serial bus) inside the platform's 20 s answer window.
    public static let maxProperties = 100

    /// The services with repeats merged: one entry per `service_id`, in first-seen order, each
    /// property at the last value the request gives it (so a service named 500 times is one).
    /// Throws `limitExceeded` when more than `maxProperties` properties remain.
    public func mergedServices() throws(PayloadError) -> [ServiceProperty] {
        var merged: [ServiceProperty] = []
        var index: [String: Int] = [:]
        var count = 0
        for service in services {
            let i: Int
            if let known = index[service.serviceId] {
                i = known
            } else {
                i = merged.count
                index[service.serviceId] = i
                merged.append(ServiceProperty(serviceId: service.serviceId, properties: JSONObject()))
            }
            for (name, value) in service.properties.pairs {
                if merged[i].properties[name] == nil { count += 1 }
                merged[i].properties[name] = value
            }
            if let time = service.eventTime { merged[i].eventTime = time }
        }
        guard count <= Self.maxProperties else {
            throw PayloadError(.limitExceeded(field: "services[].properties", limit: Self.maxProperties, actual: count),
                               "a property set may write at most \(Self.maxProperties) properties; this one names \(count) (repeated services merged)")
        }
        return merged
    }
}

/// UP `…/sys/properties/set/response/request_id={id}`; also the shape of a property-get failure.
public struct PropertiesSetResponse: Sendable, Equatable, Codable {
    /// 0 = success, anything else failure; absent means success.
    public var resultCode: Int?
    public var resultDesc: String?

    public init(resultCode: Int? = 0, resultDesc: String? = nil) {
        self.resultCode = resultCode
        self.resultDesc = resultDesc
    }

    public init(_ outcome: DownlinkOutcome) {
        self.init(resultCode: outcome.resultCode, resultDesc: outcome.resultDesc)
    }

    public var isSuccess: Bool { (resultCode ?? 0) == 0 }

    enum CodingKeys: String, CodingKey { case resultCode = "result_code", resultDesc = "result_desc" }
}

/// DOWN `…/sys/properties/get/request_id={id}`.
public struct PropertiesGetRequest: Sendable, Equatable, Codable {
    public var objectDeviceId: String?
    /// nil means all services.
    public var serviceId: String?

    public init(objectDeviceId: String? = nil, serviceId: String? = nil) {
        self.objectDeviceId = objectDeviceId
        self.serviceId = serviceId
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", serviceId = "service_id" }
}

/// UP `…/sys/properties/get/response/request_id={id}`. Does not change stored properties or the shadow.
/// The documents define no failure form; edgegw adds `result_code`/`result_desc` when it cannot answer.
public struct PropertiesGetResponse: Sendable, Equatable, Codable {
    public var services: [ServiceProperty]?
    public var resultCode: Int?
    public var resultDesc: String?

    public init(services: [ServiceProperty]?, resultCode: Int? = nil, resultDesc: String? = nil) {
        self.services = services
        self.resultCode = resultCode
        self.resultDesc = resultDesc
    }

    public static func failure(_ error: DownlinkError) -> PropertiesGetResponse {
        PropertiesGetResponse(services: nil, resultCode: error.code.rawValue, resultDesc: error.description)
    }

    enum CodingKeys: String, CodingKey { case services, resultCode = "result_code", resultDesc = "result_desc" }
}
