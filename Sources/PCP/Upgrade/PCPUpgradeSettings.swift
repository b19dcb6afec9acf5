/// What one device's PCP upgrade task needs to know: the package (target version, size) and the
/// product's PCP settings (fragment size, 0x14 check code), plus the task's retry policy.
/// Validated once when made, so the state machine never meets a count it cannot send.
public struct PCPUpgradeSettings: Sendable, Equatable, Codable {
    public let targetVersion: String
    /// Package size in bytes.
    public let packageSize: Int
    /// Bytes per fragment (`PCPLimits.fragmentSizes`, default `PCPLimits.defaultFragmentSize`).
    public let fragmentSize: Int
    /// The 0x14 check code: documented as fixed 0000; some modules use it as the package identity.
    public let checkCode: UInt16
    /// Failed attempts restarted after the first one (spec §2.10: recommended 2, at most 5).
    public let retryCount: Int
    /// Time between a failed attempt and the next one (spec §2.10: recommended 5 min).
    public let retryInterval: Duration

    /// ceil(packageSize / fragmentSize) (spec §2.4.2).
    public var fragmentCount: UInt16 {
        UInt16(truncatingIfNeeded: (packageSize + fragmentSize - 1) / fragmentSize)
    }

    /// The 0x14 request of this task.
    public var newVersion: PCPNewVersion {
        PCPNewVersion(targetVersion: targetVersion, fragmentSize: UInt16(truncatingIfNeeded: fragmentSize),
                      fragmentCount: fragmentCount, checkCode: checkCode)
    }

    public init(
        targetVersion: String,
        packageSize: Int,
        fragmentSize: Int = PCPLimits.defaultFragmentSize,
        checkCode: UInt16 = 0,
        retryCount: Int = PCPUpgradeTimers.defaultRetryCount,
        retryInterval: Duration = PCPUpgradeTimers.defaultRetryInterval
    ) throws(PCPUpgradeSettingsError) {
        if targetVersion.isEmpty || targetVersion.utf8.count > PCPLimits.versionBytes {
            throw .targetVersion(targetVersion)
        }
        if !PCPLimits.fragmentSizes.contains(fragmentSize) { throw .fragmentSize(fragmentSize) }
        if packageSize <= 0 { throw .packageSize(packageSize) }
        let count = (packageSize + fragmentSize - 1) / fragmentSize
        if count > PCPLimits.maxFragmentCount { throw .tooManyFragments(count) }
        if !PCPUpgradeTimers.retryCounts.contains(retryCount) { throw .retryCount(retryCount) }
        if retryInterval < .zero || retryInterval > PCPUpgradeTimers.maxRetryInterval {
            throw .retryInterval(retryInterval)
        }
        self.targetVersion = targetVersion
        self.packageSize = packageSize
        self.fragmentSize = fragmentSize
        self.checkCode = checkCode
        self.retryCount = retryCount
        self.retryInterval = retryInterval
    }
}

/// Why a task's settings were refused, in words for the log.
public enum PCPUpgradeSettingsError: Error, Equatable, CustomStringConvertible {
    case targetVersion(String)
    case fragmentSize(Int)
    case packageSize(Int)
    case tooManyFragments(Int)
    case retryCount(Int)
    case retryInterval(Duration)

    public var description: String {
        switch self {
        case .targetVersion(let v): return "target version \"\(v)\" must be 1 to \(PCPLimits.versionBytes) bytes"
        case .fragmentSize(let s): return "fragment size \(s) is outside \(PCPLimits.fragmentSizes.lowerBound)–\(PCPLimits.fragmentSizes.upperBound) bytes"
        case .packageSize(let s): return "package size \(s) must be at least 1 byte"
        case .tooManyFragments(let c): return "\(c) fragments exceed PCP's \(PCPLimits.maxFragmentCount); use a larger fragment size"
        case .retryCount(let c): return "retry count \(c) is outside \(PCPUpgradeTimers.retryCounts.lowerBound)–\(PCPUpgradeTimers.retryCounts.upperBound)"
        case .retryInterval(let d): return "retry interval \(d) is outside 0–1440 min"
        }
    }
}

/// The platform's timers for a PCP upgrade (spec lwm2m-coap §2.10), as named constants.
public enum PCPUpgradeTimers {
    /// The device must report (any uplink) within this time after the task is created.
    public static let waitForDevice: Duration = .seconds(24 * 3600)
    /// The 0x13 answer must come within this time.
    public static let versionQuery: Duration = .seconds(3 * 60)
    /// From the 0x14 notification to the device's 0x16 download result.
    public static let download: Duration = .seconds(60 * 60)
    /// From the 0x17 execute to the device's 0x18 upgrade result.
    public static let upgradeResult: Duration = .seconds(30 * 60)
    /// Retries recommended by the platform (UG §3.8.1): 2, every 5 min; at most 5 and 1440 min.
    public static let defaultRetryCount = 2
    public static let defaultRetryInterval: Duration = .seconds(5 * 60)
    public static let retryCounts: ClosedRange<Int> = 0...5
    public static let maxRetryInterval: Duration = .seconds(1440 * 60)
    /// Requests after a task ended are logged once per run; a run ends after this much quiet.
    public static let staleRequestQuiet: Duration = .seconds(10 * 60)
}

extension PCPUpgradeSettings {
    private enum CodingKeys: String, CodingKey {
        case targetVersion, packageSize, fragmentSize, checkCode, retryCount, retryInterval
    }

    /// Stored settings pass the same checks as new ones.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(targetVersion: c.decode(String.self, forKey: .targetVersion),
                      packageSize: c.decode(Int.self, forKey: .packageSize),
                      fragmentSize: c.decode(Int.self, forKey: .fragmentSize),
                      checkCode: c.decode(UInt16.self, forKey: .checkCode),
                      retryCount: c.decode(Int.self, forKey: .retryCount),
                      retryInterval: c.decode(Duration.self, forKey: .retryInterval))
    }
}
