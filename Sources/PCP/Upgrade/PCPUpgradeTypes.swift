/// The phases of one device's PCP upgrade task (spec lwm2m-coap §2.11; docs/pcp-upgrade.md).
public enum PCPUpgradePhase: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Waiting for any uplink: a PSM device is reachable only right after it sends (24 h).
    case waitForDevice
    /// 0x13 sent, waiting for the version report (3 min).
    case queryVersion
    /// The version differs; waiting for the caller's start permit (fan-out limits). No timer.
    case waitForPermit
    /// 0x14 sent, waiting for its answer or a first fragment request (60 min from the notify).
    case notified
    /// Serving fragment requests until the 0x16 download result (same 60 min).
    case downloading
    /// 0x17 sent, waiting for its answer (30 min from the execute).
    case executing
    /// The device installs; waiting for the 0x18 upgrade result (same 30 min).
    case waitResult
    /// An attempt failed and a retry is due after the task's retry interval.
    case retryWait
    case succeeded
    case failed
    case cancelled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }

    /// The name in logs and docs (WAIT_FOR_DEVICE, QUERY_VERSION, …).
    public var description: String {
        switch self {
        case .waitForDevice: return "WAIT_FOR_DEVICE"
        case .queryVersion: return "QUERY_VERSION"
        case .waitForPermit: return "WAIT_FOR_PERMIT"
        case .notified: return "NOTIFIED"
        case .downloading: return "DOWNLOADING"
        case .executing: return "EXECUTING"
        case .waitResult: return "WAIT_RESULT"
        case .retryWait: return "RETRY_WAIT"
        case .succeeded: return "SUCCEEDED"
        case .failed: return "FAILED"
        case .cancelled: return "CANCELLED"
        }
    }
}

/// Why a task is ended from outside.
public enum PCPUpgradeCancelReason: Sendable, Equatable, Codable {
    /// The cloud withdrew the task (or a newer task replaced it).
    case withdrawn
    /// The package failed its size or SHA-256 check: the task fails with 0x07.
    case packageVerificationFailed
}

/// One state change, as logged. `from` is nil when the task is created.
public struct PCPUpgradeTransition: Sendable, Equatable, CustomStringConvertible {
    public var from: PCPUpgradePhase?
    public var to: PCPUpgradePhase
    /// The attempt the task is in (1 is the first; retries count on).
    public var attempt: Int
    public var reason: String

    public var description: String {
        "PCP upgrade \(from.map { "\($0)" } ?? "created") → \(to) (attempt \(attempt)): \(reason)"
    }
}

/// How a task ended: the result for the cloud (`PCPResult.iotdaResultCode`) and why, in words.
public struct PCPUpgradeOutcome: Sendable, Equatable, Codable {
    public var resultCode: UInt8
    public var description: String
    public var result: PCPResult { PCPResult(resultCode) }

    public init(result: PCPResult, description: String) {
        self.resultCode = result.rawValue
        self.description = description
    }
}

/// The device's 0x18 report that ended an attempt, kept so a repeated 0x18 (the module did not get
/// our answer) is answered the same instead of with 0x80.
public struct PCPUpgradeReport: Sendable, Equatable, Codable {
    public var resultCode: UInt8
    public var version: String
}

/// Which device result codes are worth another attempt (docs/pcp-upgrade.md, "Retries").
public enum PCPUpgradeRetryPolicy {
    /// Conditions that pass: device in use, poor signal, low battery, the device's own download
    /// timeout, insufficient memory, internal error. Not retried: already latest, insufficient
    /// space, verification failed, type not supported, install failed and unlisted codes (a retry
    /// would meet the same package or the same device).
    public static func isTransient(_ result: PCPResult) -> Bool {
        switch result {
        case .deviceInUse, .poorSignal, .lowBattery, .downloadTimeout, .insufficientMemory, .internalError: return true
        default: return false
        }
    }
}

extension PCPMessage {
    /// The answer to a device request when the device has no upgrade task at all: 0x80 for
    /// 0x15, 0x16 and 0x18 (spec §2.4.3–§2.4.6); nil for messages that are not device requests.
    public var noTaskAnswer: PCPMessage? {
        switch self {
        case .fragmentRequest(_, let index): return .fragment(result: .noTask, index: index, data: [])
        case .downloadResult: return .downloadResultAck(.noTask)
        case .upgradeResult: return .upgradeResultAck(.noTask)
        default: return nil
        }
    }
}

/// A version as compared: PCP versions are BYTE[16] padded with 0x00; a decoder may leave the
/// padding in, so trailing NULs are not part of the version.
func pcpVersion(_ raw: String) -> String {
    var scalars = raw.unicodeScalars[...]
    while let last = scalars.last, last == "\u{0}" { scalars = scalars.dropLast() }
    return String(String.UnicodeScalarView(scalars))
}
