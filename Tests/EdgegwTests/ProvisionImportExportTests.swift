import Foundation
import Store
import Testing
import TestSupport

/// `edgegw provision import / export / list` against the binary: the platform's template in
/// both spellings into the device list, the list back out (mode 0600) with the template's cells,
/// a bad template changing nothing, and each device's state.
@Suite struct ProvisionImportExportTests {
    static let header = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret"
    /// The template as the platform prints it, `psk` spelling.
    static let template = """
        \(header)
        861234567890401,meter-401,power-meter,0,fn-a,00112233445566778899aabbccddeeff,0102030405060708,DTLS,86400,sec-401
        861234567890402,"Meter, north",power-meter,1,,,a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,DTLS+,3600,

        """
    /// The `pk` spelling, saved with CRLF.
    static let pkTemplate = """
        nodeId,name,productId,strategyTypeId,funcName,pk,bootstrapPk,secure,lifeTime,secret\r
        861234567890403,meter-403,power-meter,0,,8899aabbccddeeff,,NoSec,,\r
        861234567890404,meter-404,power-meter,0,,f0e1d2c3b4a59687,1122334455667788,DTLS,604800,sec-404\r

        """

    func run(_ arguments: [String]) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        return (status, process.text)
    }

    /// The data rows' cells of a template text (no quoting beyond what the templates here use).
    static func cells(_ text: String) -> [[String]] {
        text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).dropFirst().map { line in
            var cells: [String] = [], current = "", quoted = false
            for character in line {
                if character == "\"" { quoted.toggle() } else if character == "," && !quoted { cells.append(current); current = "" } else {
                    current.append(character)
                }
            }
            return cells + [current]
        }
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func bothSpellingsImportAndExportGivesTheTemplatesCellsBackInAFileOnlyTheOwnerReads() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        let list = fixture.directory.file("nbiot.csv")
        let first = fixture.directory.write("platform-1.csv", Self.template)
        let second = fixture.directory.write("platform-2.csv", Self.pkTemplate)

        let (imported, importOutput) = try await run(["provision", "import", first, "--config", fixture.configPath])
        #expect(imported == 0, "\(importOutput)")
        #expect(importOutput.contains("2 added, 0 updated, 0 unchanged"), "\(importOutput)")
        #expect(try Self.mode(list) == 0o600, "a new list holds keys")
        let (again, againOutput) = try await run(["provision", "import", second, "--config", fixture.configPath])
        #expect(again == 0, "\(againOutput)")
        #expect(againOutput.contains("2 added, 0 updated"), "\(againOutput)")
        let listText = try String(contentsOfFile: list, encoding: .utf8)
        #expect(listText.contains("861234567890401,meter-401,power-meter,0,fn-a,hex:00112233445566778899aabbccddeeff,hex:0102030405060708,DTLS"))
        for output in [importOutput, againOutput] { #expect(!output.contains("00112233445566778899") && !output.contains("f0e1d2c3")) }

        let (checked, checkOutput) = try await run(["check", "--config", fixture.configPath])
        #expect(checked == 0, "\(checkOutput)")
        #expect(checkOutput.contains("3 NB-IoT device(s) provisioned by bootstrap"), "\(checkOutput)")

        let output = fixture.directory.file("out/platform-export.csv")
        try FileManager.default.createDirectory(atPath: fixture.directory.file("out"), withIntermediateDirectories: true)
        let (exported, exportOutput) = try await run(["provision", "export", "--output", output, "--config", fixture.configPath])
        #expect(exported == 0, "\(exportOutput)")
        #expect(exportOutput.contains("4 device(s) written to"), "\(exportOutput)")
        #expect(try Self.mode(output) == 0o600)
        let exportText = try String(contentsOfFile: output, encoding: .utf8)
        #expect(exportText.hasPrefix(Self.header + "\n"))
        #expect(Self.cells(exportText) == Self.cells(Self.template) + Self.cells(Self.pkTemplate), "\(exportText)")
        #expect(!exportOutput.contains("00112233445566778899"))

        // The export imported again changes nothing: the round trip is closed.
        let before = try Data(contentsOf: URL(fileURLWithPath: list))
        let (reimported, reimportOutput) = try await run(["provision", "import", output, "--config", fixture.configPath])
        #expect(reimported == 0 && reimportOutput.contains("0 added, 0 updated, 4 unchanged"), "\(reimportOutput)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: list)) == before)

        // Without --output: the same table, key and secret columns empty, and why.
        let (printed, printedOutput) = try await run(["provision", "export", "--config", fixture.configPath])
        #expect(printed == 0, "\(printedOutput)")
        #expect(printedOutput.contains("861234567890401,meter-401,power-meter,0,fn-a,,,DTLS,86400,\n"), "\(printedOutput)")
        #expect(printedOutput.contains("keys are only written with --output"))
        for key in ["00112233445566778899aabbccddeeff", "0102030405060708", "8899aabbccddeeff", "sec-401"] {
            #expect(!printedOutput.contains(key))
        }
    }

    @Test func aTemplateWithBadRowsChangesNothingAndListsEveryProblem() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        let original = "# kept by hand\r\n\(Self.header),pskIdentity\r\n861234567890401,,power-meter,0,,12345678,,DTLS,86400,,id-401\r\n"
        let list = fixture.directory.write("nbiot.csv", original, mode: 0o640)
        let bad = fixture.directory.write("bad.csv", """
            \(Self.header)
            861234567890401,,power-meter,0,,00112233445566778899aabbccddeeff,,DTLS,86400,
            8612345678904.02,,power-meter,0,,,0011223344556677,DTLS,86400,
            861234567890403,,gas-meter,0,,0011223,,DTLS,86400,
            861234567890404,,power-meter,0,,,zz11223344556677,TLS,700000,
            861234567890401,,power-meter,0,,,0011223344556677,DTLS,86400,

            """)
        let (status, output) = try await run(["provision", "import", bad, "--config", fixture.configPath])
        #expect(status == 1)
        for expected in ["bad.csv:3: nodeId:", "bad.csv:4: productId: unknown product gas-meter", "bad.csv:4: psk:",
                         "bad.csv:5: bootstrapPsk:", "bad.csv:5: secure:", "bad.csv:5: lifeTime:",
                         "bad.csv:6: nodeId: duplicate nodeId 861234567890401 (first on line 2)",
                         "7 problem(s); nothing was changed"] {
            #expect(output.contains(expected), "\(expected)\n\(output)")
        }
        #expect(output.contains("(fix: "))
        #expect(try String(contentsOfFile: list, encoding: .utf8) == original, "byte for byte")
        #expect(try Self.mode(list) == 0o640)
        #expect(!output.contains("00112233445566778899aabbccddeeff") && !output.contains("12345678,"))

        // The good rows alone: updated in place, edgegw's column and the comment kept, CRLF kept, mode kept.
        let good = fixture.directory.write("good.csv", Self.header + "\n861234567890401,m,power-meter,0,,00112233445566778899aabbccddeeff,,DTLS,86400,\n")
        let (fixed, fixedOutput) = try await run(["provision", "import", good, "--config", fixture.configPath])
        #expect(fixed == 0 && fixedOutput.contains("0 added, 1 updated"), "\(fixedOutput)")
        #expect(try String(contentsOfFile: list, encoding: .utf8) == "# kept by hand\r\n\(Self.header),pskIdentity\r\n"
            + "861234567890401,m,power-meter,0,,hex:00112233445566778899aabbccddeeff,,DTLS,86400,,id-401\r\n")
        #expect(try Self.mode(list) == 0o640)
    }

    @Test func aTOMLDeviceListIsRefusedWithWhatToDo() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.toml\"\n")
        let list = fixture.directory.write("nbiot.toml", "[[devices]]\nnodeId = \"861234567890401\"\nproductId = \"power-meter\"\nsecure = \"NoSec\"\n")
        let template = fixture.directory.write("platform.csv", Self.template)
        let (status, output) = try await run(["provision", "import", template, "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("TOML form; import writes only the CSV form"), "\(output)")
        #expect(try String(contentsOfFile: list, encoding: .utf8).hasPrefix("[[devices]]"))
        // export and list read it.
        let (exported, exportOutput) = try await run(["provision", "export", "--config", fixture.configPath])
        #expect(exported == 0 && exportOutput.contains("861234567890401,,power-meter,,,,,NoSec,,"), "\(exportOutput)")
    }

    @Test func listShowsEachDevicesKeySourceAndStateNeverAKey() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        fixture.directory.write("nbiot.csv", """
            \(Self.header)
            861234567890501,,power-meter,0,,0011223344556677,,DTLS,86400,
            861234567890502,,power-meter,0,,,hex:0011223344556677,DTLS,86400,
            861234567890503,,power-meter,0,,,hex:8899aabbccddeeff,DTLS,86400,
            861234567890504,,power-meter,0,,,,NoSec,86400,

            """)
        let (status, before) = try await run(["provision", "list", "--config", fixture.configPath])
        #expect(status == 0, "\(before)")
        let lines = before.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("861234567890501 power-meter list no never registered"), "\(before)")
        #expect(lines.contains("861234567890502 power-meter none yet yes never bootstrapped"), "\(before)")
        #expect(lines.contains("861234567890504 power-meter NoSec no never registered"), "\(before)")
        #expect(before.contains("4 NB-IoT device(s)"))

        // Keys generated, then what a daemon records; list reads the store without opening it for writing.
        let (generated, _) = try await run(["provision", "generate", "--config", fixture.configPath])
        #expect(generated == 0)
        let store = try StateStore(directory: fixture.directory.file("state"))
        try store.recordBootstrapFinished(nodeId: "861234567890502", at: Date(timeIntervalSince1970: 1_767_225_600))
        try store.recordRegistration(nodeId: "861234567890502", at: Date(timeIntervalSince1970: 1_767_225_602))
        try store.recordBootstrapFinished(nodeId: "861234567890503", at: Date(timeIntervalSince1970: 1_767_225_700))
        let (again, after) = try await run(["provision", "list", "--config", fixture.configPath])
        #expect(again == 0, "\(after)")
        let afterLines = after.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(afterLines.contains("861234567890502 power-meter generated yes registered at 2026-01-01T00:00:02Z (bootstrapped at 2026-01-01T00:00:00Z)"),
                "\(after)")
        #expect(afterLines.contains("861234567890503 power-meter generated yes bootstrapped at 2026-01-01T00:01:40Z"), "\(after)")
        let keys = try String(contentsOfFile: fixture.directory.file("state/nbiot-connection-keys"), encoding: .utf8)
        for line in keys.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(!after.lowercased().contains(String(line.split(separator: ",")[1]).lowercased()))
        }
        #expect(!after.contains("0011223344556677"))
    }
}
