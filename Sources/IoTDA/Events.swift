import Foundation
import GatewayCore

/// Which way an event travels: UP on `sys/events/up`, DOWN on `sys/events/down`.
public enum EventDirection: Sendable, Equatable {
    case up
    case down
}

/// Every system event of spec §2.4, with typed paras, plus product-model events.
public enum IoTDAEvent: Sendable, Equatable {
    // $log
    case logConfig(LogConfig)
    case logReport(LogReport)
    // $device_info
    case deviceInfoReport(DeviceInfoReport)
    // $time_sync
    case timeSyncRequest(TimeSyncRequest)
    case timeSyncResponse(TimeSyncResponse)
    // $file_manager
    case getUploadURL(FileURLRequest)
    case getUploadURLResponse(FileURLResponse)
    case uploadResultReport(FileTransferResult)
    case getDownloadURL(FileURLRequest)
    case getDownloadURLResponse(FileURLResponse)
    case downloadResultReport(FileTransferResult)
    // $ota
    case versionQuery
    case versionReport(VersionReport)
    case firmwareUpgrade(UpgradePackage)
    case softwareUpgrade(UpgradePackage)
    case firmwareUpgradeV2(UpgradePackageV2)
    case softwareUpgradeV2(UpgradePackageV2)
    case upgradeProgressReport(UpgradeProgress)
    // $sub_device_manager
    case addSubDeviceNotify(SubDeviceNotify)
    case deleteSubDeviceNotify(SubDeviceNotify)
    case subDeviceSyncRequest(SubDeviceSyncRequest)
    case subDeviceUpdateStatus(SubDeviceStatusUpdate)
    /// Not in the documents we hold (see `SubDeviceStatusResponse`).
    case subDeviceUpdateStatusResponse(SubDeviceStatusResponse)
    case getProducts(GetProducts)
    case getProductsResponse(GetProductsResponse)
    case addSubDeviceRequest(AddSubDeviceRequest)
    case addSubDeviceResponse(AddSubDeviceResponse)
    case deleteSubDeviceRequest(DeleteSubDeviceRequest)
    case deleteSubDeviceResponse(DeleteSubDeviceResponse)
    case updateSubDeviceRequest(UpdateSubDeviceRequest)
    case updateSubDeviceResponse(UpdateSubDeviceResponse)
    // $sub_device_discovery
    case startScan(StartScan)
    case scanResult(ScanResult)
    /// A product-model event: its service_id does not start with `$`.
    case custom(serviceId: String, eventType: String, paras: JSONObject?)

    public enum ServiceID {
        public static let log = "$log"
        public static let deviceInfo = "$device_info"
        public static let timeSync = "$time_sync"
        public static let fileManager = "$file_manager"
        public static let ota = "$ota"
        public static let subDeviceManager = "$sub_device_manager"
        public static let subDeviceDiscovery = "$sub_device_discovery"
    }

    public var serviceId: String { descriptor.serviceId }
    public var eventType: String { descriptor.eventType }
    /// nil for product-model events, which may travel either way.
    public var direction: EventDirection? { descriptor.direction }

    var descriptor: (serviceId: String, eventType: String, direction: EventDirection?) {
        typealias S = ServiceID
        switch self {
        case .logConfig: return (S.log, "log_config", .down)
        case .logReport: return (S.log, "log_report", .up)
        case .deviceInfoReport: return (S.deviceInfo, "device_info_report", .up)
        case .timeSyncRequest: return (S.timeSync, "time_sync_request", .up)
        case .timeSyncResponse: return (S.timeSync, "time_sync_response", .down)
        case .getUploadURL: return (S.fileManager, "get_upload_url", .up)
        case .getUploadURLResponse: return (S.fileManager, "get_upload_url_response", .down)
        case .uploadResultReport: return (S.fileManager, "upload_result_report", .up)
        case .getDownloadURL: return (S.fileManager, "get_download_url", .up)
        case .getDownloadURLResponse: return (S.fileManager, "get_download_url_response", .down)
        case .downloadResultReport: return (S.fileManager, "download_result_report", .up)
        case .versionQuery: return (S.ota, "version_query", .down)
        case .versionReport: return (S.ota, "version_report", .up)
        case .firmwareUpgrade: return (S.ota, "firmware_upgrade", .down)
        case .softwareUpgrade: return (S.ota, "software_upgrade", .down)
        case .firmwareUpgradeV2: return (S.ota, "firmware_upgrade_v2", .down)
        case .softwareUpgradeV2: return (S.ota, "software_upgrade_v2", .down)
        case .upgradeProgressReport: return (S.ota, "upgrade_progress_report", .up)
        case .addSubDeviceNotify: return (S.subDeviceManager, "add_sub_device_notify", .down)
        case .deleteSubDeviceNotify: return (S.subDeviceManager, "delete_sub_device_notify", .down)
        case .subDeviceSyncRequest: return (S.subDeviceManager, "sub_device_sync_request", .up)
        case .subDeviceUpdateStatus: return (S.subDeviceManager, "sub_device_update_status", .up)
        case .subDeviceUpdateStatusResponse: return (S.subDeviceManager, "sub_device_update_status_response", .down)
        case .getProducts: return (S.subDeviceManager, "get_products", .up)
        case .getProductsResponse: return (S.subDeviceManager, "get_products_response", .down)
        case .addSubDeviceRequest: return (S.subDeviceManager, "add_sub_device_request", .up)
        case .addSubDeviceResponse: return (S.subDeviceManager, "add_sub_device_response", .down)
        case .deleteSubDeviceRequest: return (S.subDeviceManager, "delete_sub_device_request", .up)
        case .deleteSubDeviceResponse: return (S.subDeviceManager, "delete_sub_device_response", .down)
        case .updateSubDeviceRequest: return (S.subDeviceManager, "update_sub_device_request", .up)
        case .updateSubDeviceResponse: return (S.subDeviceManager, "update_sub_device_response", .down)
        case .startScan: return (S.subDeviceDiscovery, "start_scan", .down)
        case .scanResult: return (S.subDeviceDiscovery, "scan_result", .up)
        case .custom(let service, let type, _): return (service, type, nil)
        }
    }
}

/// One element of `services` in an events message.
public struct EventService: Sendable, Equatable, Codable {
    public var event: IoTDAEvent
    /// `yyyyMMdd'T'HHmmss'Z'`.
    public var eventTime: String?
    /// Correlates add/delete/update child requests with their responses.
    public var eventId: String?

    public init(_ event: IoTDAEvent, eventTime: String? = nil, eventId: String? = nil) {
        self.event = event
        self.eventTime = eventTime
        self.eventId = eventId
    }

    enum CodingKeys: String, CodingKey {
        case serviceId = "service_id", eventType = "event_type", eventTime = "event_time", eventId = "event_id", paras
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let serviceId = try c.decode(String.self, forKey: .serviceId)
        let eventType = try c.decode(String.self, forKey: .eventType)
        eventTime = try c.decodeIfPresent(String.self, forKey: .eventTime)
        eventId = try c.decodeIfPresent(String.self, forKey: .eventId)

        func paras<T: Decodable>(_ type: T.Type) throws -> T {
            if let value = try c.decodeIfPresent(JSONValue.self, forKey: .paras), value != .null {
                return try c.decode(type, forKey: .paras)
            }
            // Absent paras are fine when every field is optional (e.g. version_query's empty object).
            if let empty = try? JSONDecoder().decode(type, from: Data("{}".utf8)) { return empty }
            throw DecodingError.keyNotFound(CodingKeys.paras, .init(codingPath: c.codingPath, debugDescription: "paras missing"))
        }

        switch (serviceId, eventType) {
        case ("$log", "log_config"): event = .logConfig(try paras(LogConfig.self))
        case ("$log", "log_report"): event = .logReport(try paras(LogReport.self))
        // The example in UG 2.1.2.3.1 says $sdk_info / sdk_info_report (erratum E1): accepted, never sent.
        case ("$device_info", "device_info_report"), ("$sdk_info", "sdk_info_report"):
            event = .deviceInfoReport(try paras(DeviceInfoReport.self))
        case ("$time_sync", "time_sync_request"): event = .timeSyncRequest(try paras(TimeSyncRequest.self))
        case ("$time_sync", "time_sync_response"): event = .timeSyncResponse(try paras(TimeSyncResponse.self))
        case ("$file_manager", "get_upload_url"): event = .getUploadURL(try paras(FileURLRequest.self))
        case ("$file_manager", "get_upload_url_response"): event = .getUploadURLResponse(try paras(FileURLResponse.self))
        case ("$file_manager", "upload_result_report"): event = .uploadResultReport(try paras(FileTransferResult.self))
        case ("$file_manager", "get_download_url"): event = .getDownloadURL(try paras(FileURLRequest.self))
        case ("$file_manager", "get_download_url_response"): event = .getDownloadURLResponse(try paras(FileURLResponse.self))
        case ("$file_manager", "download_result_report"): event = .downloadResultReport(try paras(FileTransferResult.self))
        case ("$ota", "version_query"): event = .versionQuery
        case ("$ota", "version_report"): event = .versionReport(try paras(VersionReport.self))
        case ("$ota", "firmware_upgrade"): event = .firmwareUpgrade(try paras(UpgradePackage.self))
        case ("$ota", "software_upgrade"): event = .softwareUpgrade(try paras(UpgradePackage.self))
        case ("$ota", "firmware_upgrade_v2"): event = .firmwareUpgradeV2(try paras(UpgradePackageV2.self))
        case ("$ota", "software_upgrade_v2"): event = .softwareUpgradeV2(try paras(UpgradePackageV2.self))
        case ("$ota", "upgrade_progress_report"): event = .upgradeProgressReport(try paras(UpgradeProgress.self))
        case ("$sub_device_manager", "add_sub_device_notify"): event = .addSubDeviceNotify(try paras(SubDeviceNotify.self))
        case ("$sub_device_manager", "delete_sub_device_notify"): event = .deleteSubDeviceNotify(try paras(SubDeviceNotify.self))
        case ("$sub_device_manager", "sub_device_sync_request"): event = .subDeviceSyncRequest(try paras(SubDeviceSyncRequest.self))
        case ("$sub_device_manager", "sub_device_update_status"): event = .subDeviceUpdateStatus(try paras(SubDeviceStatusUpdate.self))
        case ("$sub_device_manager", "sub_device_update_status_response"):
            event = .subDeviceUpdateStatusResponse(try paras(SubDeviceStatusResponse.self))
        case ("$sub_device_manager", "get_products"): event = .getProducts(try paras(GetProducts.self))
        case ("$sub_device_manager", "get_products_response"): event = .getProductsResponse(try paras(GetProductsResponse.self))
        case ("$sub_device_manager", "add_sub_device_request"): event = .addSubDeviceRequest(try paras(AddSubDeviceRequest.self))
        case ("$sub_device_manager", "add_sub_device_response"): event = .addSubDeviceResponse(try paras(AddSubDeviceResponse.self))
        case ("$sub_device_manager", "delete_sub_device_request"): event = .deleteSubDeviceRequest(try paras(DeleteSubDeviceRequest.self))
        case ("$sub_device_manager", "delete_sub_device_response"): event = .deleteSubDeviceResponse(try paras(DeleteSubDeviceResponse.self))
        case ("$sub_device_manager", "update_sub_device_request"): event = .updateSubDeviceRequest(try paras(UpdateSubDeviceRequest.self))
        case ("$sub_device_manager", "update_sub_device_response"): event = .updateSubDeviceResponse(try paras(UpdateSubDeviceResponse.self))
        case ("$sub_device_discovery", "start_scan"): event = .startScan(try paras(StartScan.self))
        case ("$sub_device_discovery", "scan_result"): event = .scanResult(try paras(ScanResult.self))
        default:
            if serviceId.hasPrefix("$") {
                throw PayloadError(.unknownEvent(serviceId: serviceId, eventType: eventType),
                                   "unknown system event \(serviceId)/\(eventType)")
            }
            event = .custom(serviceId: serviceId, eventType: eventType, paras: try c.decodeIfPresent(JSONObject.self, forKey: .paras))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event.serviceId, forKey: .serviceId)
        try c.encode(event.eventType, forKey: .eventType)
        try c.encodeIfPresent(eventTime, forKey: .eventTime)
        try c.encodeIfPresent(eventId, forKey: .eventId)
        switch event {
        case .logConfig(let p): try c.encode(p, forKey: .paras)
        case .logReport(let p): try c.encode(p, forKey: .paras)
        case .deviceInfoReport(let p): try c.encode(p, forKey: .paras)
        case .timeSyncRequest(let p): try c.encode(p, forKey: .paras)
        case .timeSyncResponse(let p): try c.encode(p, forKey: .paras)
        case .getUploadURL(let p), .getDownloadURL(let p): try c.encode(p, forKey: .paras)
        case .getUploadURLResponse(let p), .getDownloadURLResponse(let p): try c.encode(p, forKey: .paras)
        case .uploadResultReport(let p), .downloadResultReport(let p): try c.encode(p, forKey: .paras)
        case .versionQuery: try c.encode(JSONObject(), forKey: .paras)
        case .versionReport(let p): try c.encode(p, forKey: .paras)
        case .firmwareUpgrade(let p), .softwareUpgrade(let p): try c.encode(p, forKey: .paras)
        case .firmwareUpgradeV2(let p), .softwareUpgradeV2(let p): try c.encode(p, forKey: .paras)
        case .upgradeProgressReport(let p): try c.encode(p, forKey: .paras)
        case .addSubDeviceNotify(let p), .deleteSubDeviceNotify(let p): try c.encode(p, forKey: .paras)
        case .subDeviceSyncRequest(let p): try c.encode(p, forKey: .paras)
        case .subDeviceUpdateStatus(let p): try c.encode(p, forKey: .paras)
        case .subDeviceUpdateStatusResponse(let p): try c.encode(p, forKey: .paras)
        case .getProducts(let p): try c.encode(p, forKey: .paras)
        case .getProductsResponse(let p): try c.encode(p, forKey: .paras)
        case .addSubDeviceRequest(let p): try c.encode(p, forKey: .paras)
        case .addSubDeviceResponse(let p): try c.encode(p, forKey: .paras)
        case .deleteSubDeviceRequest(let p): try c.encode(p, forKey: .paras)
        case .deleteSubDeviceResponse(let p): try c.encode(p, forKey: .paras)
        case .updateSubDeviceRequest(let p): try c.encode(p, forKey: .paras)
        case .updateSubDeviceResponse(let p): try c.encode(p, forKey: .paras)
        case .startScan(let p): try c.encode(p, forKey: .paras)
        case .scanResult(let p): try c.encode(p, forKey: .paras)
        case .custom(_, _, let p): try c.encodeIfPresent(p, forKey: .paras)
        }
    }
}

/// The body of `sys/events/up` and `sys/events/down`.
public struct EventsMessage: Sendable, Equatable, Codable {
    /// The child the events concern; nil means the gateway. For add/delete/update child requests
    /// the documents define it as the gateway's own id.
    public var objectDeviceId: String?
    public var services: [EventService]

    public init(objectDeviceId: String? = nil, services: [EventService]) {
        self.objectDeviceId = objectDeviceId
        self.services = services
    }

    /// One event, stamped with `eventTime` (formatted `yyyyMMdd'T'HHmmss'Z'`).
    public init(objectDeviceId: String? = nil, _ event: IoTDAEvent, at eventTime: Date? = nil, eventId: String? = nil) {
        self.init(objectDeviceId: objectDeviceId,
                  services: [EventService(event, eventTime: eventTime.map(IoTDATime.eventTime), eventId: eventId)])
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", services }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        objectDeviceId = try c.decodeIfPresent(String.self, forKey: .objectDeviceId)
        services = try c.decodeIfPresent([EventService].self, forKey: .services) ?? []
    }
}

/// A `sys/events/down` message decoded item by item: one bad event (unknown type, wrong field)
/// does not cost the others.
public struct DownlinkEvents: Sendable, Equatable {
    public var objectDeviceId: String?
    public var items: [Result<EventService, PayloadError>]

    public init(objectDeviceId: String?, items: [Result<EventService, PayloadError>]) {
        self.objectDeviceId = objectDeviceId
        self.items = items
    }

    public var events: [EventService] { items.compactMap { try? $0.get() } }
    public var errors: [PayloadError] { items.compactMap { if case .failure(let e) = $0 { e } else { nil } } }

    /// Throws only when the envelope itself is unusable (oversized, not JSON, not an object,
    /// `services` not a list).
    public static func decode(_ data: Data, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) throws(PayloadError) -> DownlinkEvents {
        let envelope = try IoTDAJSON.decode(LenientEnvelope.self, from: data, limit: limit)
        return DownlinkEvents(objectDeviceId: envelope.objectDeviceId, items: envelope.services.map(\.result))
    }

    struct LenientEnvelope: Decodable {
        var objectDeviceId: String?
        var services: [LenientService]

        enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", services }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            objectDeviceId = try c.decodeIfPresent(String.self, forKey: .objectDeviceId)
            services = try c.decodeIfPresent([LenientService].self, forKey: .services) ?? []
        }
    }

    struct LenientService: Decodable {
        var result: Result<EventService, PayloadError>

        init(from decoder: Decoder) throws {
            do {
                let service = try EventService(from: decoder)
                if service.event.direction == .up {
                    result = .failure(PayloadError(.unexpectedDirection(serviceId: service.event.serviceId, eventType: service.event.eventType),
                                                   "uplink event \(service.event.serviceId)/\(service.event.eventType) received on events/down"))
                } else {
                    result = .success(service)
                }
            } catch let error as PayloadError {
                result = .failure(error)
            } catch let error as DecodingError {
                result = .failure(PayloadError(decoding: error))
            }
        }
    }
}
