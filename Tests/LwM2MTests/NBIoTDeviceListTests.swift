import Foundation
import GatewayCore
@testable import LwM2M
import Testing
import TestSupport

@Suite struct NBIoTDeviceListTests {
    static let header = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret"

    @Test func sampleFileParsesWithTheSecretsFile() throws {
        let path = Paths.packageRoot + "/etc/edgegw/nbiot-devices.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(text, file: path, secrets: ["861234567890124": Array("abcdefgh".utf8)],
                                            knownProducts: ["water-meter"], diagnostics: diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        #expect(devices.map(\.nodeId) == ["861234567890123", "861234567890124", "861234567890125", "861234567890126"])
        #expect(devices[0].psk == Array("12345678".utf8))
        #expect(devices[0].pcpUpgradeCapable)
        #expect(devices[1].psk == Array("abcdefgh".utf8))
        #expect(devices[2].psk.count == 16 && devices[2].resources == .tup)
        #expect(devices[3].secure == false && devices[3].psk.isEmpty)
    }

    @Test func aRowWithABootstrapPSKAndNoConnectionPSKIsValidAndWaitsForAGeneratedKey() {
        let text = """
        \(Self.header)
        861234567890201,,meter,0,,,hex:00112233445566778899AABBCCDDEEFF,DTLS,3600,
        861234567890202,,meter,0,,,,DTLS,86400,
        """
        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(text, file: "nbiot-devices.csv", knownProducts: ["meter"], diagnostics: diagnostics)
        #expect(devices.map(\.nodeId) == ["861234567890201"])
        #expect(devices.first?.bootstrapPSK == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(devices.first?.needsGeneratedKey == true)
        #expect(devices.first?.lifetime == 3600)
        // Without either key the row is still refused, and the fix names the bootstrap way too.
        #expect(diagnostics.all.count == 1)
        #expect(diagnostics.all.first?.line == 3 && diagnostics.all.first?.problem.contains("has no PSK") == true)
        #expect(diagnostics.all.first?.fix?.contains("bootstrapPsk") == true)
        // Until it has a key, the LwM2M server knows no key for its identity.
        #expect(StaticDeviceDirectory(devices).pskKey(identity: "861234567890201") == nil)
    }

    @Test func problemsCarryFileAndLine() {
        let text = """
        # comment
        \(Self.header)
        861234567890123,,meter,0,,12345678,,DTLS,86400,
        861234567890123,,meter,0,,12345678,,DTLS,86400,
        861234567890124,,meter,0,,1234,,DTLS,86400,
        861234567890125,,meter,0,,hex:abc,,DTLS,86400,
        861234567890126,,meter,0,,,,DTLS,86400,
        861234567890127,,other,0,,12345678,,DTLS,86400,
        86123456789012 8,,meter,0,,12345678,,DTLS,86400,
        861234567890129,,meter,0,,12345678,,maybe,86400,
        """
        let diagnostics = ConfigDiagnostics()
        let devices = NBIoTDeviceList.parse(text, file: "nbiot-devices.csv", knownProducts: ["meter"], diagnostics: diagnostics)
        #expect(devices.map(\.nodeId) == ["861234567890123"])
        let lines = diagnostics.all.map { "\($0.line ?? 0) \($0.keyPath)" }
        #expect(lines == ["4 nodeId", "5 psk", "6 psk", "7 psk", "8 productId", "9 nodeId", "10 secure"])
        #expect(diagnostics.all[0].description.hasPrefix("nbiot-devices.csv:4: nodeId: duplicate nodeId 861234567890123 (first on line 3)"))
        // The key never appears in a diagnostic.
        #expect(!diagnostics.all.contains { $0.description.contains("1234,") || $0.description.contains("abc") })
    }

    @Test func unknownColumnIsNamedWithASuggestion() {
        let diagnostics = ConfigDiagnostics()
        _ = NBIoTDeviceList.parse("nodeId,productId,pks\n1,p,12345678", file: "f.csv", diagnostics: diagnostics)
        #expect(diagnostics.all.first?.description == "f.csv:1: pks: unknown column (fix: did you mean psk?)")
    }

    @Test func pskFormats() throws {
        #expect(try NBIoTDeviceList.parsePSK("12345678").get() == Array("12345678".utf8))
        #expect(try NBIoTDeviceList.parsePSK("hex:0011AAff").get() == [0x00, 0x11, 0xAA, 0xFF])
        #expect((try? NBIoTDeviceList.parsePSK("1234567").get()) == nil)
        #expect((try? NBIoTDeviceList.parsePSK(String(repeating: "a", count: 33)).get()) == nil)
        #expect((try? NBIoTDeviceList.parsePSK("12345678!").get()) == nil)
        #expect((try? NBIoTDeviceList.parsePSK("hex:001").get()) == nil)
        #expect((try? NBIoTDeviceList.parsePSK("hex:zz112233").get()) == nil)
        #expect((try? NBIoTDeviceList.parsePSK("hex:001122").get()) == nil)
    }

    @Test func quotedFields() {
        #expect(NBIoTDeviceList.splitCSV("a,\"b,c\",\"d\"\"e\"") == ["a", "b,c", "d\"e"])
        #expect(NBIoTDeviceList.splitCSV("a,\"b") == nil)
    }

    @Test func secretsFileProblemsCarryTheirLineAndNeverTheKey() {
        let text = "861234567890124 = abcdefgh\n# comment\nbad line\n861234567890125 = short\n"
        let diagnostics = ConfigDiagnostics()
        let secrets = NBIoTSecretsFile.parse(text, file: "psk.secrets", diagnostics: diagnostics)
        #expect(secrets == ["861234567890124": Array("abcdefgh".utf8)])
        #expect(diagnostics.all.map { $0.line } == [3, 4])
        #expect(!diagnostics.all.contains { $0.description.contains("short") })
    }

    @Test func aSecretsFileWithCRLFLinesReadsTheSameKeys() {
        // Edited on Windows: "\r\n" is one Character in Swift, so splitting on "\n" alone would not split it.
        let diagnostics = ConfigDiagnostics()
        let secrets = NBIoTSecretsFile.parse("# keys\r\n861234567890124 = abcdefgh\r\n861234567890125 = hex:00112233\r\n",
                                             file: "psk.secrets", diagnostics: diagnostics)
        #expect(diagnostics.all.isEmpty)
        #expect(secrets == ["861234567890124": Array("abcdefgh".utf8), "861234567890125": [0x00, 0x11, 0x22, 0x33]])
    }
}
