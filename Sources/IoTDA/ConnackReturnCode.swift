import GatewayCore

/// The CONNACK return codes the platform documents (UG 2.1.2.11, spec §1.3), with what each
/// most likely means for an edge gateway. MQTT 5 reason codes map onto the same cases.
public enum ConnackReturnCode: Sendable, Equatable, Hashable {
    case accepted
    case unacceptableProtocolVersion
    case identifierRejected
    case serverUnavailable
    case badUsernameOrPassword
    case notAuthorized
    case other(Int)

    /// From the MQTT 3.1.1 return code (0–5) or an MQTT 5 reason code (0x80 and up).
    public init(code: Int) {
        switch code {
        case 0x00: self = .accepted
        case 0x01, 0x84: self = .unacceptableProtocolVersion
        case 0x02, 0x85: self = .identifierRejected
        case 0x03, 0x88, 0x89: self = .serverUnavailable
        case 0x04, 0x86: self = .badUsernameOrPassword
        case 0x05, 0x87: self = .notAuthorized
        default: self = .other(code)
        }
    }

    /// The MQTT 3.1.1 return code.
    public var code: Int {
        switch self {
        case .accepted: 0
        case .unacceptableProtocolVersion: 1
        case .identifierRejected: 2
        case .serverUnavailable: 3
        case .badUsernameOrPassword: 4
        case .notAuthorized: 5
        case .other(let c): c
        }
    }

    /// True when retrying soon cannot help: the credentials, the ClientId or the account must be
    /// fixed first, so the session backs off long instead of hammering the platform.
    public var isPermanentRefusal: Bool {
        switch self {
        case .identifierRejected, .badUsernameOrPassword, .notAuthorized, .unacceptableProtocolVersion: true
        case .accepted, .serverUnavailable, .other: false
        }
    }

    /// One line for the log that says what is most likely wrong and what to check.
    public func diagnosis(signType: SignType) -> String {
        switch self {
        case .accepted:
            return "connection accepted"
        case .unacceptableProtocolVersion:
            return "refused (1, bad protocol version): the platform does not accept this MQTT version; use MQTT 3.1.1"
        case .identifierRejected:
            return "refused (2, identifier rejected): the client_id is not {device_id}_0_{sign_type}_{YYYYMMDDHH}, "
                + "or the keepalive is outside what the platform accepts (keep it within 30–1200 s)"
        case .serverUnavailable:
            return "refused (3, server unavailable): the platform service is unavailable; retrying with backoff"
        case .badUsernameOrPassword:
            if signType == .timestampCheck {
                return "refused (4, bad username or password): wrong device secret or device id, or the box's clock "
                    + "is off (sign type 1 checks the timestamp against platform time: check NTP, or use sign type 0)"
            }
            return "refused (4, bad username or password): wrong device secret or device id "
                + "(check the secret file and that the device exists on the platform)"
        case .notAuthorized:
            if signType == .timestampCheck {
                return "refused (5, not authorized): the device is not allowed to connect (frozen, deleted, or wrong "
                    + "instance), or the box's clock is off with sign type 1"
            }
            return "refused (5, not authorized): the device is not allowed to connect "
                + "(frozen, deleted, or registered in another instance)"
        case .other(let c):
            return "refused (code \(c)): not documented by the platform"
        }
    }
}
