import Testing
import Foundation
@testable import PCP

@Suite struct PCPUpgradeSettingsTests {
    @Test func theFragmentCountIsTheCeilingOfSizeOverFragmentSize() throws {
        #expect(try PCPUpgradeSettings(targetVersion: "V", packageSize: 500).fragmentCount == 1)
        #expect(try PCPUpgradeSettings(targetVersion: "V", packageSize: 501).fragmentCount == 2)
        #expect(try PCPUpgradeSettings(targetVersion: "V", packageSize: 102_400, fragmentSize: 500).fragmentCount == 205)
        #expect(try PCPUpgradeSettings(targetVersion: "V", packageSize: 16).fragmentCount == 1)
    }

    @Test func theDefaultsAreTheSpecs() throws {
        let settings = try PCPUpgradeSettings(targetVersion: "V", packageSize: 1)
        #expect(settings.fragmentSize == 500)
        #expect(settings.checkCode == 0)
        #expect(settings.retryCount == 2)
        #expect(settings.retryInterval == .seconds(300))
    }

    @Test func fragmentSizesOutside32To500AreRefused() throws {
        #expect(throws: PCPUpgradeSettingsError.fragmentSize(31)) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, fragmentSize: 31) }
        #expect(throws: PCPUpgradeSettingsError.fragmentSize(501)) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, fragmentSize: 501) }
        _ = try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, fragmentSize: 32)
        _ = try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, fragmentSize: 500)
    }

    @Test func invalidTasksAreRefused() {
        #expect(throws: PCPUpgradeSettingsError.packageSize(0)) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 0) }
        #expect(throws: PCPUpgradeSettingsError.tooManyFragments(65_536)) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 32 * 65_536, fragmentSize: 32) }
        #expect(throws: PCPUpgradeSettingsError.targetVersion("")) { try PCPUpgradeSettings(targetVersion: "", packageSize: 1) }
        #expect(throws: PCPUpgradeSettingsError.targetVersion("V12345678901234567")) { try PCPUpgradeSettings(targetVersion: "V12345678901234567", packageSize: 1) }
        #expect(throws: PCPUpgradeSettingsError.retryCount(6)) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, retryCount: 6) }
        #expect(throws: PCPUpgradeSettingsError.retryInterval(.seconds(86_401))) { try PCPUpgradeSettings(targetVersion: "V", packageSize: 1, retryInterval: .seconds(86_401)) }
    }

    @Test func storedSettingsPassTheSameChecks() throws {
        let settings = try PCPUpgradeSettings(targetVersion: "V2", packageSize: 1_000, fragmentSize: 117, checkCode: 7)
        let data = try JSONEncoder().encode(settings)
        #expect(try JSONDecoder().decode(PCPUpgradeSettings.self, from: data) == settings)
        let json = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "117", with: "600")
        #expect(throws: PCPUpgradeSettingsError.fragmentSize(600)) { try JSONDecoder().decode(PCPUpgradeSettings.self, from: Data(json.utf8)) }
    }

    @Test func theFragmentSetCountsDistinctIndexes() throws {
        var set = FragmentSet(capacity: 130)
        let inserted = [set.insert(0), set.insert(0), set.insert(129), set.insert(130), set.insert(-1)]
        #expect(inserted == [true, false, true, false, false])
        #expect(set.count == 2)
        let restored = try JSONDecoder().decode(FragmentSet.self, from: JSONEncoder().encode(set))
        #expect(restored == set)
        #expect(restored.contains(129))
        let bad = Data(#"{"capacity":130,"words":[1]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FragmentSet.self, from: bad) }
    }
}
