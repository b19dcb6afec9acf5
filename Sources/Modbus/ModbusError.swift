import GatewayCore

/// What went wrong with one request, as the bus sees it. Mapped to a `DownlinkOutcome` only
/// where an answer leaves for the cloud (`outcome`).
public enum ModbusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The slave answered with an exception response.
    case exception(code: UInt8)
    /// No answer within the response timeout.
    case timeout
    /// An answer with a bad CRC (RTU).
    case crc
    /// An answer that does not fit the request: short, wrong unit id, wrong function, too much data.
    case badResponse(String)
    /// The port or connection failed (refused, reset, cannot open the serial device).
    case connection(String)
    /// The gateway is shutting down; the request was not sent.
    case stopped

    /// A slave that gives any answer, even an exception, is alive.
    public var slaveAnswered: Bool {
        if case .exception = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .exception(let code): "Modbus exception \(code) (\(Self.exceptionName(code)))"
        case .timeout: "no response within the timeout"
        case .crc: "response with a bad CRC"
        case .badResponse(let reason): "invalid response: \(reason)"
        case .connection(let reason): "connection failed: \(reason)"
        case .stopped: "the Modbus bus is stopping"
        }
    }

    /// Exception codes of the Modbus application protocol (§7).
    public static func exceptionName(_ code: UInt8) -> String {
        switch code {
        case 1: "illegal function"
        case 2: "illegal data address"
        case 3: "illegal data value"
        case 4: "slave device failure"
        case 5: "acknowledge"
        case 6: "slave device busy"
        case 7: "negative acknowledge"
        case 8: "memory parity error"
        case 10: "gateway path unavailable"
        case 11: "gateway target device failed to respond"
        default: "unknown exception"
        }
    }

    /// The answer to the cloud for a write that failed this way.
    public var outcome: DownlinkOutcome {
        var outcome: DownlinkOutcome
        switch self {
        case .exception(let code):
            outcome = .failure(.deviceError, description)
            outcome.paras["modbus_exception"] = .int(Int64(code))
        case .timeout: outcome = .failure(.timeout, description)
        case .crc, .badResponse: outcome = .failure(.deviceError, description)
        case .connection: outcome = .failure(.deviceUnreachable, description)
        case .stopped: outcome = .failure(.internalError, description)
        }
        return outcome
    }
}
