// Paras of the `$ota` events (spec §2.9).

/// Time limits of an MQTT upgrade (UG 3.7).
public enum OTALimits {
    /// The platform waits this long for `version_report` after `version_query`.
    public static let versionReportWindow: Duration = .seconds(180)
    /// The access token, the download and the final result report must all happen within 24 h.
    public static let upgradeWindow: Duration = .seconds(24 * 3600)
    /// An upgrade task waits up to 25 h for the device to come online.
    public static let onlineWaitWindow: Duration = .seconds(25 * 3600)
    /// `sign` is a SHA-256 in hex.
    public static let signHexDigits = 64
    /// Ours, not the platform's (it names no bound): a `description` longer than this is cut.
    public static let maxDescriptionCharacters = 256
}

/// UP `$ota` / `version_report` (answer to `version_query`, whose paras are empty).
public struct VersionReport: Sendable, Equatable, Codable {
    public var swVersion: String?
    public var fwVersion: String?

    public init(swVersion: String? = nil, fwVersion: String? = nil) {
        self.swVersion = swVersion
        self.fwVersion = fwVersion
    }

    enum CodingKeys: String, CodingKey { case swVersion = "sw_version", fwVersion = "fw_version" }
}

/// DOWN `$ota` / `firmware_upgrade`, `software_upgrade`: a package stored on the platform,
/// fetched with `Authorization: Bearer {access_token}`.
public struct UpgradePackage: Sendable, Equatable, Codable {
    public var version: String
    public var url: String
    public var fileSize: Int64
    public var accessToken: String?
    /// Seconds the access token stays valid.
    public var expires: Int64?
    /// SHA-256 of the package, hex.
    public var sign: String

    public init(version: String, url: String, fileSize: Int64, accessToken: String? = nil, expires: Int64? = nil, sign: String) {
        self.version = version
        self.url = url
        self.fileSize = fileSize
        self.accessToken = accessToken
        self.expires = expires
        self.sign = sign
    }

    enum CodingKeys: String, CodingKey {
        case version, url, fileSize = "file_size", accessToken = "access_token", expires, sign
    }
}

/// DOWN `$ota` / `firmware_upgrade_v2`, `software_upgrade_v2`: a package on OBS, fetched with a plain GET.
public struct UpgradePackageV2: Sendable, Equatable, Codable {
    public var version: String
    public var url: String
    public var expires: Int64?

    public init(version: String, url: String, expires: Int64? = nil) {
        self.version = version
        self.url = url
        self.expires = expires
    }
}

/// The `result_code` values of `upgrade_progress_report`.
public enum UpgradeResultCode: Int, Sendable, CaseIterable, Codable {
    case success = 0
    case deviceInUse = 1
    case poorSignal = 2
    case alreadyLatest = 3
    case lowBattery = 4
    case insufficientSpace = 5
    case downloadTimeout = 6
    case verificationFailed = 7
    case unsupportedPackage = 8
    case outOfMemory = 9
    case installFailed = 10
    case internalError = 255
}

/// UP `$ota` / `upgrade_progress_report`.
public struct UpgradeProgress: Sendable, Equatable, Codable {
    public static let progressRange = 0...100

    /// One of `UpgradeResultCode`; kept as Int so that an undocumented code still decodes.
    public var resultCode: Int
    public var progress: Int?
    /// The device's current version; on success it must equal the package's configured version.
    public var version: String
    public var description: String?

    public init(resultCode: UpgradeResultCode, progress: Int? = nil, version: String, description: String? = nil) {
        self.resultCode = resultCode.rawValue
        self.progress = progress.map { min(max($0, Self.progressRange.lowerBound), Self.progressRange.upperBound) }
        self.version = version
        self.description = description
    }

    public var result: UpgradeResultCode? { UpgradeResultCode(rawValue: resultCode) }

    enum CodingKeys: String, CodingKey { case resultCode = "result_code", progress, version, description }
}
