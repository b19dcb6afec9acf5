import Foundation

/// Property values of one service, as reported by a field device.
public struct ServiceReport: Sendable, Equatable {
    public var serviceId: String
    public var properties: JSONObject
    /// When the values were collected; the cloud shows it as `event_time`.
    public var eventTime: Date?

    public init(serviceId: String, properties: JSONObject, eventTime: Date? = nil) {
        self.serviceId = serviceId
        self.properties = properties
        self.eventTime = eventTime
    }
}

/// What the field side hands to the cloud side. Implemented by the gateway's uplink
/// pipeline (outbox → cloud link); field services only call it.
public protocol UplinkSink: Sendable {
    /// Properties collected from a child (`nodeId`).
    func report(nodeId: String, services: [ServiceReport]) async
    /// A child's status changed; coalesced into `sub_device_update_status`.
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async
    /// A device message from a child (`sys/messages/up` with the child's `object_device_id`):
    /// the platform's channel for what is neither a property nor a product-model event, such as
    /// the later outcome of a queued NB-IoT command.
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async
}

/// A command from the cloud for one child.
public struct ChildCommand: Sendable, Equatable {
    public var requestId: String
    public var nodeId: String
    public var serviceId: String?
    public var commandName: String
    public var paras: JSONObject

    public init(requestId: String, nodeId: String, serviceId: String?, commandName: String, paras: JSONObject) {
        self.requestId = requestId
        self.nodeId = nodeId
        self.serviceId = serviceId
        self.commandName = commandName
        self.paras = paras
    }
}

/// The answer to a synchronous downlink request (command or property set), mapped onto the
/// platform's `result_code` (0 = success) at the cloud boundary.
public struct DownlinkOutcome: Sendable, Equatable {
    public var resultCode: Int
    public var responseName: String?
    public var resultDesc: String?
    public var paras: JSONObject

    public init(resultCode: Int, responseName: String? = nil, resultDesc: String? = nil, paras: JSONObject = JSONObject()) {
        self.resultCode = resultCode
        self.responseName = responseName
        self.resultDesc = resultDesc
        self.paras = paras
    }

    public static func success(_ paras: JSONObject = JSONObject(), name: String? = nil) -> DownlinkOutcome {
        DownlinkOutcome(resultCode: 0, responseName: name, resultDesc: "success", paras: paras)
    }

    public static func failure(_ code: DownlinkResultCode, _ desc: String) -> DownlinkOutcome {
        DownlinkOutcome(resultCode: code.rawValue, resultDesc: desc)
    }
}

/// Non-zero result codes edgegw puts in command and property-set responses. The platform
/// defines only 0 = success; these are ours and documented in the README.
public enum DownlinkResultCode: Int, Sendable, CaseIterable {
    case success = 0
    case unknownChild = 1
    case noHandler = 2
    case badRequest = 3
    case deviceUnreachable = 4
    case deviceError = 5
    case timeout = 6
    case queued = 7
    case expired = 8
    case rejected = 9
    case internalError = 10
}

/// A southbound subsystem (Modbus, LwM2M) that serves downlink requests for its children.
///
/// Every request comes with its `deadline`: the instant of the gateway's clock (the one
/// `GatewayClock` the daemon hands to every service) by which the answer must be back with the
/// cloud bridge. The bridge makes it once, when the request arrives, from the platform's window
/// (`IoTDA.CommandRequest.responseWindow`) less the trip to the platform; a handler answers by
/// it (with what it has by then), and the bridge answers `timeout` for a handler that does not.
public protocol DownlinkHandler: Sendable {
    func handles(nodeId: String) async -> Bool
    func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome
    func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                       deadline: GatewayClock.Instant) async -> DownlinkOutcome
    /// Current values; nil for `serviceId` means all services.
    func getProperties(requestId: String, nodeId: String, serviceId: String?,
                       deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError>
}

/// A southbound subsystem's life in the daemon: `run()` serves until `finish()` has stopped it
/// (or until cancelled). `finish()` is the graceful stop on SIGTERM, called before the cloud
/// side drains the outbox: take no new work, finish the exchanges in flight (each up to its
/// deadline, all within a short bound), persist what stays queued, hand the last events to the
/// `UplinkSink`; it returns once that is done, and `run()` returns with it.
public protocol FieldService: Sendable {
    func run() async throws
    func finish() async
}

public struct DownlinkError: Error, Sendable, Equatable {
    public var code: DownlinkResultCode
    public var description: String

    public init(_ code: DownlinkResultCode, _ description: String) {
        self.code = code
        self.description = description
    }
}
