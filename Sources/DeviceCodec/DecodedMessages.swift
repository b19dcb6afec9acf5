import GatewayCore

/// An uplink message decoded completely (never partially: a frame that fails anywhere is an error).
public enum DecodedUplink: Sendable, Equatable {
    case report(DecodedReport)
    case commandResponse(DecodedCommandResponse)
}

/// A data report: property values per service, in the order the message declares them.
public struct DecodedReport: Sendable, Equatable {
    /// The codec message's name.
    public var message: String
    public var services: [ServiceReport]

    public init(message: String, services: [ServiceReport]) {
        self.message = message
        self.services = services
    }
}

/// A device's result for a command, matched to the command by `mid`.
public struct DecodedCommandResponse: Sendable, Equatable {
    public var message: String
    public var serviceId: String
    public var command: String
    public var mid: UInt16
    /// The `errcode` field when the message has one: 0 = success.
    public var errcode: Int64?
    /// The response fields (the command's `responses` in the product model).
    public var paras: JSONObject

    public init(message: String, serviceId: String, command: String, mid: UInt16, errcode: Int64?, paras: JSONObject) {
        self.message = message
        self.serviceId = serviceId
        self.command = command
        self.mid = mid
        self.errcode = errcode
        self.paras = paras
    }

    /// The platform's rule: a result is FAILED when it carries an error code.
    public var succeeded: Bool { (errcode ?? 0) == 0 }
}

/// A downlink message decoded the way a device reads it (device simulators, tests, the CLI).
public enum DecodedDownlink: Sendable, Equatable {
    case command(DecodedCommand)
    case reportResponse(message: String)
}

public struct DecodedCommand: Sendable, Equatable {
    public var message: String
    public var serviceId: String
    public var command: String
    /// nil when the command message has no `mid` field (a command without a response).
    public var mid: UInt16?
    public var paras: JSONObject

    public init(message: String, serviceId: String, command: String, mid: UInt16?, paras: JSONObject) {
        self.message = message
        self.serviceId = serviceId
        self.command = command
        self.mid = mid
        self.paras = paras
    }
}
