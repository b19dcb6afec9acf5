import GatewayCore

/// DOWN `…/sys/commands/request_id={id}`.
public struct CommandRequest: Sendable, Equatable, Codable {
    /// The child the command is for; nil means the gateway itself.
    public var objectDeviceId: String?
    public var serviceId: String?
    public var commandName: String?
    public var paras: JSONObject?

    /// The platform expects the response within 20 s (FAQ ch. 4); the same holds for property set/get.
    public static let responseWindow: Duration = .seconds(20)

    public init(objectDeviceId: String? = nil, serviceId: String? = nil, commandName: String? = nil, paras: JSONObject? = nil) {
        self.objectDeviceId = objectDeviceId
        self.serviceId = serviceId
        self.commandName = commandName
        self.paras = paras
    }

    /// The GatewayCore form for a field handler; `nodeId` is the child's local id.
    public func childCommand(requestId: String, nodeId: String) -> ChildCommand {
        ChildCommand(requestId: requestId, nodeId: nodeId, serviceId: serviceId, commandName: commandName ?? "",
                     paras: paras ?? JSONObject())
    }

    enum CodingKeys: String, CodingKey {
        case objectDeviceId = "object_device_id", commandName = "command_name", serviceId = "service_id", paras
    }
}

/// UP `…/sys/commands/response/request_id={id}` (same request_id as the command).
/// `result_desc` is not in the documents' table; edgegw adds it so failures say why.
public struct CommandResponse: Sendable, Equatable, Codable {
    /// 0 = success, anything else failure; absent means success.
    public var resultCode: Int?
    public var responseName: String?
    public var paras: JSONObject?
    public var resultDesc: String?

    public init(resultCode: Int? = 0, responseName: String? = nil, paras: JSONObject? = nil, resultDesc: String? = nil) {
        self.resultCode = resultCode
        self.responseName = responseName
        self.paras = paras
        self.resultDesc = resultDesc
    }

    public init(_ outcome: DownlinkOutcome) {
        self.init(resultCode: outcome.resultCode, responseName: outcome.responseName,
                  paras: outcome.paras.isEmpty ? nil : outcome.paras, resultDesc: outcome.resultDesc)
    }

    public var isSuccess: Bool { (resultCode ?? 0) == 0 }

    enum CodingKeys: String, CodingKey {
        case resultCode = "result_code", responseName = "response_name", paras, resultDesc = "result_desc"
    }
}
