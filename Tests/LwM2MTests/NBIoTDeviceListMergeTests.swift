import Foundation
import GatewayCore
@testable import LwM2M
import Testing

/// The template merged into edgegw's device list: listed devices updated in the platform's
/// columns only, new ones appended, every other byte kept, and the result still a valid list.
@Suite struct NBIoTDeviceListMergeTests {
    static let list = """
        # Site list, kept by hand.
        nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret,pskIdentity,uplinkPath,downlinkPath,pcp
        861234567890001,old,water-meter,0,,12345678,,DTLS,86400,,ident-1,/t/d,/t/d,true

        # a comment between rows
        861234567890002, untouched ,water-meter,0,,,,NoSec,86400,,,,,

        """

    static let imported = [
        PlatformDeviceRow(nodeId: "861234567890001", name: "new name", productId: "water-meter", strategyTypeId: "1",
                          funcName: "f", psk: "00112233AABBCCDD", bootstrapPsk: "0102030405060708", secure: "DTLS",
                          lifeTime: "3600", secret: "sec"),
        PlatformDeviceRow(nodeId: "861234567890003", name: "Meter, east", productId: "water-meter", bootstrapPsk: "0a0b0c0d0e0f1011",
                          secure: "DTLS", lifeTime: "86400"),
    ]

    /// A cell beginning with `#` is quoted: first on its line (a list whose first column is not
    /// nodeId), it would make the device's line a comment and the device would vanish (found by
    /// the nbiot-device-list fuzz target; reproducer in Tests/Fuzz/nbiot-device-list/regressions/).
    @Test func aCellBeginningWithAHashIsQuotedSoItsLineIsNoComment() throws {
        let list = "name,nodeId,productId,secure\n# kept by hand\n"
        let rows = [PlatformDeviceRow(nodeId: "861234567890010", name: "#kitchen", productId: "water-meter", secure: "NoSec")]
        let outcome = NBIoTDeviceListMerge.merge(rows, into: list)
        #expect(outcome.added == ["861234567890010"])
        #expect(outcome.text.hasSuffix("\"#kitchen\",861234567890010,water-meter,NoSec\n"))
        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(outcome.text, file: "list.csv", knownProducts: ["water-meter"], diagnostics: diagnostics)
        #expect(diagnostics.all.isEmpty)
        #expect(devices.map(\.nodeId) == ["861234567890010"] && devices.first?.name == "#kitchen")
        #expect(PlatformDeviceTemplate.quoted("#1") == "\"#1\"" && PlatformDeviceTemplate.quoted("a#") == "a#")
    }

    @Test func aListedDeviceKeepsEdgegwsColumnsANewOneIsAppendedTheRestStaysByteForByte() throws {
        let outcome = NBIoTDeviceListMerge.merge(Self.imported, into: Self.list)
        #expect(outcome.updated == ["861234567890001"] && outcome.added == ["861234567890003"] && outcome.unchanged.isEmpty)
        let before = Self.list.split(separator: "\n", omittingEmptySubsequences: false)
        let after = outcome.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(after[2] == "861234567890001,new name,water-meter,1,f,hex:00112233aabbccdd,hex:0102030405060708,DTLS,3600,sec,ident-1,/t/d,/t/d,true")
        #expect(Array(after[0...1]) == Array(before[0...1]))
        #expect(Array(after[3...5]) == Array(before[3...5]), "blank, comment and untouched lines as they were")
        #expect(after.count == before.count + 1)
        #expect(after[6] == "861234567890003,\"Meter, east\",water-meter,,,,hex:0a0b0c0d0e0f1011,DTLS,86400,,,,,")
        #expect(outcome.text.hasSuffix("\n"))

        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(outcome.text, file: "list.csv", knownProducts: ["water-meter"], diagnostics: diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        #expect(devices.first?.psk == [0x00, 0x11, 0x22, 0x33, 0xAA, 0xBB, 0xCC, 0xDD], "hex: in the list means bytes")
        #expect(devices.first?.pskIdentity == "ident-1" && devices.first?.resources == .tup && devices.first?.pcpUpgradeCapable == true)
        #expect(devices.last?.needsGeneratedKey == true)

        // The same template again changes nothing.
        let again = NBIoTDeviceListMerge.merge(Self.imported, into: outcome.text)
        #expect(again.text == outcome.text)
        #expect(again.unchanged == ["861234567890001", "861234567890003"] && again.added.isEmpty && again.updated.isEmpty)
    }

    @Test func crlfListsStayCRLFAndALastLineWithoutNewlineGetsOne() {
        let list = "nodeId,productId,secure\r\n861234567890002,water-meter,NoSec"
        let outcome = NBIoTDeviceListMerge.merge([Self.imported[1]], into: list)
        #expect(outcome.text.hasPrefix("nodeId,productId,secure,name,bootstrapPsk,lifeTime\r\n861234567890002,water-meter,NoSec\r\n"))
        #expect(outcome.text.hasSuffix("861234567890003,water-meter,DTLS,\"Meter, east\",hex:0a0b0c0d0e0f1011,86400\r\n"),
                "\(outcome.text.debugDescription)")
        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(outcome.text, file: "list.csv", knownProducts: ["water-meter"], diagnostics: diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        #expect(devices.count == 2)
    }

    @Test func aListWithTheAliasSpellingIsUpdatedInItsOwnColumns() {
        let list = "nodeId,productId,pk,bootstrapPk,secure\n861234567890001,water-meter,12345678,,DTLS\n"
        let outcome = NBIoTDeviceListMerge.merge([Self.imported[0]], into: list)
        #expect(outcome.text.hasPrefix("nodeId,productId,pk,bootstrapPk,secure,name,strategyTypeId,funcName,lifeTime,secret\n"))
        #expect(outcome.text.contains("861234567890001,water-meter,hex:00112233aabbccdd,hex:0102030405060708,DTLS,new name,1,f,3600,sec\n"))
    }

    @Test func noListYetGivesAHeadedList() {
        let outcome = NBIoTDeviceListMerge.merge(Self.imported, into: nil)
        #expect(outcome.text.hasPrefix(NBIoTDeviceListMerge.newListComment + PlatformDeviceTemplateTests.header + "\n"))
        #expect(outcome.added.count == 2)
        let diagnostics = ConfigDiagnostics()
        #expect(NBIoTDeviceList.parse(outcome.text, file: "list.csv", knownProducts: ["water-meter"], diagnostics: diagnostics).count == 2)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
    }

    @Test func theListsRowsAreReadBackByNodeIdWithTheirLines() {
        let rows = NBIoTDeviceListRows.read(Self.list.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(rows["861234567890001"]?.line == 3)
        #expect(rows["861234567890001"]?["pskIdentity"] == "ident-1")
        #expect(rows["861234567890002"]?["name"] == "untouched" && rows["861234567890002"]?.line == 6)
        #expect(NBIoTDeviceListRows.read("nodeId,productId,pk\n1,p,abcdefgh\n")["1"]?["psk"] == "abcdefgh")
    }
}
