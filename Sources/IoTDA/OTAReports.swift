import Foundation
import GatewayCore

// The `$ota` uplinks for a child (spec §2.9.2, §2.9.4), stamped like the other child events:
// `object_device_id` is the child, `event_time` is `yyyyMMdd'T'HHmmss'Z'`.

extension VersionReport {
    /// Only what is known: a nil or empty version is left out of the paras.
    public init(knownSoftware sw: String?, firmware fw: String?) {
        self.init(swVersion: sw.flatMap { $0.isEmpty ? nil : $0 }, fwVersion: fw.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Neither version known: the paras would be empty (allowed, both fields are optional, but says nothing).
    public var isEmpty: Bool { swVersion == nil && fwVersion == nil }
}

extension UpgradeProgress {
    /// Progress of a transfer as the platform shows it: whole percent, rounded down, so 100 is
    /// reached only when the last fragment has been served; 0 when there is nothing to serve.
    public static func percent(done: Int, of total: Int) -> Int {
        guard total > 0 else { return progressRange.lowerBound }
        let clamped = min(max(done, 0), total)
        return clamped * progressRange.upperBound / total
    }

    /// The checks an uplink must pass: a listed result code, progress within 0–100 (the
    /// initialiser clamps; a value changed afterwards is refused here), a description not longer
    /// than `OTALimits.maxDescriptionCharacters`.
    public func validate() throws(PayloadError) {
        guard UpgradeResultCode(rawValue: resultCode) != nil else {
            throw PayloadError(.wrongType(field: "result_code"), "result_code \(resultCode) is not one of 0–10 or 255")
        }
        if let progress, !Self.progressRange.contains(progress) {
            throw PayloadError(.limitExceeded(field: "progress", limit: Self.progressRange.upperBound, actual: progress),
                               "progress \(progress) is outside 0–100")
        }
        if let description, description.count > OTALimits.maxDescriptionCharacters {
            throw PayloadError(.limitExceeded(field: "description", limit: OTALimits.maxDescriptionCharacters, actual: description.count),
                               "description is longer than \(OTALimits.maxDescriptionCharacters) characters")
        }
    }
}

extension EventsMessage {
    /// UP `version_report` for a child (the answer to `version_query`, due within `OTALimits.versionReportWindow`).
    public static func versionReport(child: String, _ report: VersionReport, at time: Date) -> EventsMessage {
        EventsMessage(objectDeviceId: child, .versionReport(report), at: time)
    }

    /// UP `upgrade_progress_report` for a child.
    public static func upgradeProgressReport(child: String, _ progress: UpgradeProgress, at time: Date) -> EventsMessage {
        EventsMessage(objectDeviceId: child, .upgradeProgressReport(progress), at: time)
    }
}
