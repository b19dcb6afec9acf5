import Foundation
import GatewayCore

// The `$ota` downlinks for a child, checked before the gateway acts on them (spec §2.9.1, §2.9.3).
// `EventService` decodes their shape; this file adds what the gateway needs before it fetches a
// package: every field present and of its type, `sign` a SHA-256, `url` an http(s) address,
// sizes and expiries not negative. A notice that fails is answered with `upgrade_progress_report`
// result 255 and the error's description (`OTANoticeError.reply`).

/// Firmware or software: only the event type tells them apart.
public enum UpgradeKind: String, Sendable, Equatable, CaseIterable {
    case firmware
    case software
}

/// A checked `$ota` downlink.
public enum OTANotice: Sendable, Equatable {
    /// `version_query`: answer with `version_report` within `OTALimits.versionReportWindow`.
    case versionQuery
    case upgrade(UpgradeNotice)

    /// The `$ota` event types that travel down.
    public static let eventTypes: Set<String> = [
        "version_query", "firmware_upgrade", "software_upgrade", "firmware_upgrade_v2", "software_upgrade_v2",
    ]

    /// Checks an event `EventService` decoded; nil for events that are not `$ota` downlinks.
    public init?(checking event: IoTDAEvent) throws(OTANoticeError) {
        switch event {
        case .versionQuery: self = .versionQuery
        case .firmwareUpgrade(let p): self = .upgrade(try UpgradeNotice(kind: .firmware, package: p))
        case .softwareUpgrade(let p): self = .upgrade(try UpgradeNotice(kind: .software, package: p))
        case .firmwareUpgradeV2(let p): self = .upgrade(try UpgradeNotice(kind: .firmware, obs: p))
        case .softwareUpgradeV2(let p): self = .upgrade(try UpgradeNotice(kind: .software, obs: p))
        default: return nil
        }
    }
}

/// `firmware_upgrade` / `software_upgrade` (a package on the platform, fetched with a bearer
/// token, identified by `sign` and `file_size`) or their `_v2` forms (a package on OBS, a plain GET).
public struct UpgradeNotice: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `sign` is lower-case hex here.
        case platform(UpgradePackage)
        case obs(UpgradePackageV2)
    }

    public var kind: UpgradeKind
    public var source: Source

    public var version: String {
        switch source { case .platform(let p): p.version; case .obs(let p): p.version }
    }
    public var url: String {
        switch source { case .platform(let p): p.url; case .obs(let p): p.url }
    }
    /// How long the token (platform) or the URL (OBS) stays valid, from the notice's arrival.
    public var expires: Duration? {
        switch source { case .platform(let p): p.expires.map { .seconds($0) }; case .obs(let p): p.expires.map { .seconds($0) } }
    }
    /// The event type it came as (`software_upgrade_v2`, …).
    public var eventType: String {
        switch source {
        case .platform: "\(kind.rawValue)_upgrade"
        case .obs: "\(kind.rawValue)_upgrade_v2"
        }
    }

    public init(kind: UpgradeKind, package: UpgradePackage) throws(OTANoticeError) {
        let type = "\(kind.rawValue)_upgrade"
        try Self.checkVersion(package.version, eventType: type)
        try Self.checkURL(package.url, eventType: type)
        guard package.fileSize >= 0 else {
            throw OTANoticeError(.negativeFileSize(package.fileSize), eventType: type,
                                 "file_size \(package.fileSize) is negative")
        }
        try Self.checkExpires(package.expires, eventType: type)
        guard Self.isSHA256Hex(package.sign) else {
            throw OTANoticeError(.badSign, eventType: type,
                                 "sign is not a SHA-256 (\(OTALimits.signHexDigits) hex digits): \(package.sign.count) characters")
        }
        var checked = package
        checked.sign = package.sign.lowercased()
        self.kind = kind
        self.source = .platform(checked)
    }

    public init(kind: UpgradeKind, obs package: UpgradePackageV2) throws(OTANoticeError) {
        let type = "\(kind.rawValue)_upgrade_v2"
        try Self.checkVersion(package.version, eventType: type)
        try Self.checkURL(package.url, eventType: type)
        try Self.checkExpires(package.expires, eventType: type)
        self.kind = kind
        self.source = .obs(package)
    }

    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == OTALimits.signHexDigits && text.allSatisfy(\.isHexDigit)
    }

    static func checkVersion(_ version: String, eventType: String) throws(OTANoticeError) {
        guard !version.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw OTANoticeError(.emptyField("version"), eventType: eventType, "version is empty")
        }
    }

    static func checkURL(_ url: String, eventType: String) throws(OTANoticeError) {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = parsed.host, !host.isEmpty else {
            throw OTANoticeError(.badURL, eventType: eventType, "url \"\(url.prefix(200))\" is not an http(s) address")
        }
    }

    static func checkExpires(_ expires: Int64?, eventType: String) throws(OTANoticeError) {
        if let expires, expires < 0 {
            throw OTANoticeError(.negativeExpires(expires), eventType: eventType, "expires \(expires) is negative")
        }
    }
}

/// Why a `$ota` notice cannot be acted on. The gateway answers it with `reply(…)`.
public struct OTANoticeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case missingField(String)
        case wrongType(String)
        case emptyField(String)
        /// `sign` is not 64 hex digits.
        case badSign
        /// `url` is not an http or https address with a host.
        case badURL
        case negativeFileSize(Int64)
        case negativeExpires(Int64)
        /// The message itself is unusable (not JSON, not an object, `services` not a list).
        case malformedEnvelope
    }

    public let code: Code
    /// The event type of the notice (`software_upgrade`, …); empty when the envelope was unusable.
    public let eventType: String
    public let detail: String

    public init(_ code: Code, eventType: String, _ detail: String) {
        self.code = code
        self.eventType = eventType
        self.detail = detail
    }

    public var description: String { eventType.isEmpty ? detail : "\(eventType): \(detail)" }

    /// Every bad notice ends with the platform's "internal error".
    public var resultCode: UpgradeResultCode { .internalError }

    /// The paras of the answer: result 255, the device's current version (empty when it never
    /// said one), the reason as description.
    public func reply(currentVersion: String) -> UpgradeProgress {
        UpgradeProgress(resultCode: resultCode, version: currentVersion,
                        description: String("rejected \(description)".prefix(OTALimits.maxDescriptionCharacters)))
    }

    /// The whole answer for a child.
    public func reply(child: String, currentVersion: String, at time: Date) -> EventsMessage {
        .upgradeProgressReport(child: child, reply(currentVersion: currentVersion), at: time)
    }
}

extension OTANoticeError {
    init(_ error: PayloadError, eventType: String) {
        switch error.code {
        case .missingField(let f): self.init(.missingField(Self.paraName(f)), eventType: eventType, error.detail)
        case .wrongType(let f): self.init(.wrongType(Self.paraName(f)), eventType: eventType, error.detail)
        default: self.init(.malformedEnvelope, eventType: eventType, error.detail)
        }
    }

    /// `paras.file_size` → `file_size`.
    static func paraName(_ path: String) -> String {
        path.hasPrefix("paras.") ? String(path.dropFirst("paras.".count)) : path
    }
}
