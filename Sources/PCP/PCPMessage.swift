import GatewayCore

/// A PCP message as values (spec lwm2m-coap §2.3–§2.5). Request and response share one message
/// code and carry no request/response flag, so a frame's meaning depends on who sent it: from
/// the device, 0x15/0x16/0x18 are requests and 0x13/0x14/0x17 answers; toward the device the
/// other way round. Each case names one of the twelve (code, direction) pairs.
public enum PCPMessage: Sendable, Equatable {
    // Platform (edgegw) → device.
    /// 0x13 request: what version do you run? No data.
    case queryVersion
    /// 0x14 request: a new version is ready in `fragmentCount` fragments of `fragmentSize` bytes.
    case newVersion(PCPNewVersion)
    /// 0x15 answer: one fragment (`data` empty unless `result` is success).
    case fragment(result: PCPResult, index: UInt16, data: [UInt8])
    /// 0x16 answer to the device's download result.
    case downloadResultAck(PCPResult)
    /// 0x17 request: install what you downloaded. No data.
    case execute
    /// 0x18 answer to the device's upgrade result.
    case upgradeResultAck(PCPResult)

    // Device → platform (edgegw).
    /// 0x13 answer: the version the device runs.
    case versionReport(result: PCPResult, version: String)
    /// 0x14 answer: whether the device takes the upgrade.
    case newVersionAnswer(PCPResult)
    /// 0x15 request: send me fragment `index` of `targetVersion` (0-based; the device picks the
    /// order and resumes from what it misses).
    case fragmentRequest(targetVersion: String, index: UInt16)
    /// 0x16 request: the package is downloaded (or why not).
    case downloadResult(PCPResult)
    /// 0x17 answer: whether the device starts installing.
    case executeAnswer(PCPResult)
    /// 0x18 request: the upgrade's outcome and the version now running.
    case upgradeResult(result: PCPResult, version: String)

    /// Which side sends the message.
    public enum Sender: Sendable, Equatable { case platform, device }

    public var code: PCPMessageCode {
        switch self {
        case .queryVersion, .versionReport: return .queryVersion
        case .newVersion, .newVersionAnswer: return .newVersion
        case .fragment, .fragmentRequest: return .requestFragment
        case .downloadResultAck, .downloadResult: return .downloadResult
        case .execute, .executeAnswer: return .execute
        case .upgradeResultAck, .upgradeResult: return .upgradeResult
        }
    }

    public var sender: Sender {
        switch self {
        case .queryVersion, .newVersion, .fragment, .downloadResultAck, .execute, .upgradeResultAck: return .platform
        case .versionReport, .newVersionAnswer, .fragmentRequest, .downloadResult, .executeAnswer, .upgradeResult: return .device
        }
    }
}

/// The six message codes in use (spec §2.3); the rest of 0…255 is reserved.
public enum PCPMessageCode: UInt8, Sendable, CaseIterable {
    case queryVersion = 0x13
    case newVersion = 0x14
    case requestFragment = 0x15
    case downloadResult = 0x16
    case execute = 0x17
    case upgradeResult = 0x18

    /// The spec's English name, for logs and `edgegw pcp decode`.
    public var name: String {
        switch self {
        case .queryVersion: return "query device version"
        case .newVersion: return "new version notification"
        case .requestFragment: return "request package fragment"
        case .downloadResult: return "report download result"
        case .execute: return "execute upgrade"
        case .upgradeResult: return "report upgrade result"
        }
    }
}

/// The 0x14 request's data area (spec §2.4.2).
public struct PCPNewVersion: Sendable, Equatable {
    public var targetVersion: String
    /// Bytes per fragment: `PCPLimits.fragmentSizes`, default `PCPLimits.defaultFragmentSize`.
    public var fragmentSize: UInt16
    public var fragmentCount: UInt16
    /// Documented as fixed 0000 and deprecated; some modules use it as the package identity when
    /// they resume, so it is set per product.
    public var checkCode: UInt16

    public init(targetVersion: String, fragmentSize: UInt16, fragmentCount: UInt16, checkCode: UInt16 = 0) {
        self.targetVersion = targetVersion
        self.fragmentSize = fragmentSize
        self.fragmentCount = fragmentCount
        self.checkCode = checkCode
    }
}

/// A PCP result or status byte (spec §2.5). A struct over the raw byte so that a value the
/// documents do not list is kept (and shown) rather than refused.
public struct PCPResult: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = PCPResult(0x00)
    public static let deviceInUse = PCPResult(0x01)
    public static let poorSignal = PCPResult(0x02)
    public static let alreadyLatest = PCPResult(0x03)
    public static let lowBattery = PCPResult(0x04)
    public static let insufficientSpace = PCPResult(0x05)
    public static let downloadTimeout = PCPResult(0x06)
    public static let verificationFailed = PCPResult(0x07)
    public static let packageTypeUnsupported = PCPResult(0x08)
    public static let insufficientMemory = PCPResult(0x09)
    public static let installFailed = PCPResult(0x0A)
    public static let internalError = PCPResult(0x7F)
    /// Platform side: no upgrade task for this device.
    public static let noTask = PCPResult(0x80)
    /// Platform side: the requested fragment index does not exist.
    public static let noSuchFragment = PCPResult(0x81)

    public var isSuccess: Bool { self == .success }

    /// The spec's meaning, or "unlisted" for a byte the documents do not name.
    public var meaning: String {
        switch rawValue {
        case 0x00: return "success"
        case 0x01: return "device in use"
        case 0x02: return "poor signal quality"
        case 0x03: return "already the latest version"
        case 0x04: return "low battery"
        case 0x05: return "insufficient free space"
        case 0x06: return "download timeout"
        case 0x07: return "package verification failed"
        case 0x08: return "package type not supported"
        case 0x09: return "insufficient memory"
        case 0x0A: return "installing the package failed"
        case 0x7F: return "internal error"
        case 0x80: return "upgrade task does not exist"
        case 0x81: return "requested fragment does not exist"
        default: return "unlisted"
        }
    }

    /// The `result_code` of IoTDA's `upgrade_progress_report` (spec §2.5): the same numbers for
    /// 0–10, but the internal error is 255 on MQTT where PCP has 0x7F. Bytes the MQTT list
    /// does not have (0x80, 0x81, unlisted ones) are reported as the internal error.
    public var iotdaResultCode: Int {
        switch rawValue {
        case 0x00...0x0A: return Int(rawValue)
        default: return 255
        }
    }

    public var description: String { "0x\(String(rawValue, radix: 16, uppercase: true)) (\(meaning))" }
}

/// Limits of the protocol (spec §2.2, §2.4, §2.12).
public enum PCPLimits {
    /// Version strings are BYTE[16], ASCII, padded at the end with 0x00.
    public static let versionBytes = 16
    /// Fragment sizes the platform allows when a package is uploaded.
    public static let fragmentSizes: ClosedRange<Int> = 32...500
    public static let defaultFragmentSize = 500
    /// Fragment indexes and counts are WORDs.
    public static let maxFragmentCount = Int(UInt16.max)
}
