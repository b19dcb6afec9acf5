import Foundation
import GatewayCore
import Testing
@testable import IoTDA

/// The `$ota` uplinks for a child (spec §2.9.2, §2.9.4) and the platform's limits.
@Suite struct OTAReportTests {
    let when = Date(timeIntervalSince1970: 1_449_922_332) // 2015-12-12T12:12:12Z, the spec's event_time

    func json(_ message: EventsMessage) throws -> JSONValue { try normalized(IoTDAJSON.encode(message)) }
    func expected(_ text: String) throws -> JSONValue { try normalized(Data(text.utf8)) }

    /// Spec §2.9.2's example, with the child's id for the placeholder.
    @Test func versionReportAsTheSpecShowsIt() throws {
        let m = EventsMessage.versionReport(child: "meter_1", VersionReport(knownSoftware: "v1.0", firmware: "v1.0"), at: when)
        #expect(try json(m) == expected(#"{"object_device_id":"meter_1","services":[{"service_id":"$ota","event_type":"version_report","event_time":"20151212T121212Z","paras":{"sw_version":"v1.0","fw_version":"v1.0"}}]}"#))
    }

    @Test func versionReportSendsOnlyWhatIsKnown() throws {
        let sw = EventsMessage.versionReport(child: "c", VersionReport(knownSoftware: "V2", firmware: nil), at: when)
        #expect(try json(sw) == expected(#"{"object_device_id":"c","services":[{"service_id":"$ota","event_type":"version_report","event_time":"20151212T121212Z","paras":{"sw_version":"V2"}}]}"#))
        let fw = VersionReport(knownSoftware: "", firmware: "F1")
        #expect(fw == VersionReport(fwVersion: "F1"))
        #expect(VersionReport(knownSoftware: nil, firmware: "").isEmpty)
        #expect(!fw.isEmpty)
    }

    /// Spec §2.9.4's corrected example (the document's is missing a `}`).
    @Test func progressReportAsTheSpecShowsIt() throws {
        let m = EventsMessage.upgradeProgressReport(
            child: "meter_1", UpgradeProgress(resultCode: .success, progress: 80, version: "V2.0", description: "upgrade processing"), at: when)
        #expect(try json(m) == expected(#"{"object_device_id":"meter_1","services":[{"service_id":"$ota","event_type":"upgrade_progress_report","event_time":"20151212T121212Z","paras":{"result_code":0,"progress":80,"version":"V2.0","description":"upgrade processing"}}]}"#))
    }

    @Test func progressAndDescriptionAreOptional() throws {
        let m = EventsMessage.upgradeProgressReport(child: "c", UpgradeProgress(resultCode: .verificationFailed, version: "V1"), at: when)
        #expect(try json(m) == expected(#"{"object_device_id":"c","services":[{"service_id":"$ota","event_type":"upgrade_progress_report","event_time":"20151212T121212Z","paras":{"result_code":7,"version":"V1"}}]}"#))
    }

    /// Progress is clamped to 0–100 when built; a value set outside it afterwards is refused.
    @Test func progressBounds() throws {
        #expect(UpgradeProgress(resultCode: .success, progress: 101, version: "v").progress == 100)
        #expect(UpgradeProgress(resultCode: .success, progress: -1, version: "v").progress == 0)
        #expect(UpgradeProgress(resultCode: .success, progress: 0, version: "v").progress == 0)
        #expect(UpgradeProgress(resultCode: .success, progress: 100, version: "v").progress == 100)
        var p = UpgradeProgress(resultCode: .success, progress: 50, version: "v")
        #expect(throws: Never.self) { try p.validate() }
        p.progress = 101
        #expect(throws: PayloadError.self) { try p.validate() }
        p.progress = -1
        #expect(throws: PayloadError.self) { try p.validate() }
    }

    /// Only the listed result codes: 0–10 and 255.
    @Test func resultCodesAreTheListedOnes() throws {
        #expect(UpgradeResultCode.allCases.map(\.rawValue) == Array(0...10) + [255])
        for code in UpgradeResultCode.allCases {
            #expect(throws: Never.self) { try UpgradeProgress(resultCode: code, version: "v").validate() }
        }
        for raw in [11, 127, 254, 256, -1] {
            var p = UpgradeProgress(resultCode: .success, version: "v")
            p.resultCode = raw
            #expect(p.result == nil)
            #expect(throws: PayloadError.self) { try p.validate() }
        }
    }

    @Test func progressFromFragments() {
        #expect(UpgradeProgress.percent(done: 0, of: 10) == 0)
        #expect(UpgradeProgress.percent(done: 1, of: 3) == 33)
        #expect(UpgradeProgress.percent(done: 199, of: 200) == 99, "100 only once the last fragment is served")
        #expect(UpgradeProgress.percent(done: 200, of: 200) == 100)
        #expect(UpgradeProgress.percent(done: 300, of: 200) == 100)
        #expect(UpgradeProgress.percent(done: -3, of: 200) == 0)
        #expect(UpgradeProgress.percent(done: 5, of: 0) == 0)
        #expect(UpgradeProgress.percent(done: 65_535, of: 65_535) == 100)
    }

    @Test func descriptionBound() {
        var p = UpgradeProgress(resultCode: .installFailed, version: "v", description: String(repeating: "x", count: OTALimits.maxDescriptionCharacters))
        #expect(throws: Never.self) { try p.validate() }
        p.description = String(repeating: "x", count: OTALimits.maxDescriptionCharacters + 1)
        #expect(throws: PayloadError.self) { try p.validate() }
    }

    /// The platform's time limits (UG 3.7, spec §5.4).
    @Test func platformLimits() {
        #expect(OTALimits.versionReportWindow == .seconds(3 * 60))
        #expect(OTALimits.upgradeWindow == .seconds(24 * 3600))
        #expect(OTALimits.onlineWaitWindow == .seconds(25 * 3600))
        #expect(OTALimits.signHexDigits == 64)
    }
}
