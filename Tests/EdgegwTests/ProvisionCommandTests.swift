import Foundation
import Testing
import TestSupport

/// `edgegw provision generate` and `edgegw check` on a device list whose modules bootstrap.
@Suite struct ProvisionCommandTests {
    static let list = """
        nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
        861234567890301,,power-meter,0,,,hex:00112233445566778899AABBCCDDEEFF,DTLS,86400,
        861234567890302,,power-meter,0,,,hex:FFEEDDCCBBAA99887766554433221100,DTLS,86400,
        861234567890303,,power-meter,0,,12345678,hex:0123456789ABCDEF0123456789ABCDEF,DTLS,86400,

        """

    func run(_ arguments: [String]) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        return (status, process.text)
    }

    @Test func keysAreGeneratedOnceIntoAFileOnlyTheOwnerMayReadAndNeverPrinted() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        fixture.directory.write("nbiot.csv", Self.list)
        let (checked, checkOutput) = try await run(["check", "--config", fixture.configPath])
        #expect(checked == 0, "\(checkOutput)")
        #expect(checkOutput.contains("3 NB-IoT device(s) provisioned by bootstrap, 2 without a connection key yet"), "\(checkOutput)")

        let (status, output) = try await run(["provision", "generate", "--config", fixture.configPath])
        #expect(status == 0, "\(output)")
        #expect(output.contains("2 connection key(s) generated, 0 kept"), "\(output)")
        let file = fixture.directory.file("state/nbiot-connection-keys")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let keys = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: ",") }
        #expect(keys.map { String($0[0]) } == ["861234567890301", "861234567890302"], "the device with a psk gets none")
        #expect(keys.allSatisfy { $0[1].count == 32 }, "16 bytes each")
        #expect(Set(keys.map { $0[1] }).count == 2)
        for key in keys { #expect(!output.contains(String(key[1]))) }

        // A second run keeps them; check now finds every device with a key.
        let (again, againOutput) = try await run(["provision", "generate", "--config", fixture.configPath])
        #expect(again == 0)
        #expect(againOutput.contains("0 connection key(s) generated, 2 kept"), "\(againOutput)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == text)
        let (_, after) = try await run(["check", "--config", fixture.configPath])
        #expect(after.contains("3 NB-IoT device(s) provisioned by bootstrap") && !after.contains("without a connection key"), "\(after)")
        for key in keys { #expect(!after.contains(String(key[1]))) }
    }

    @Test func aKeyFileOthersMayReadIsRefusedByCheck() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        fixture.directory.write("nbiot.csv", Self.list)
        fixture.directory.write("state/nbiot-connection-keys", "861234567890301,00112233445566778899AABBCCDDEEFF\n", mode: 0o644)
        let (status, output) = try await run(["check", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("group or others may access it"), "\(output)")
        #expect(!output.contains("00112233445566778899AABBCCDDEEFF"))
    }
}

/// `edgegw provision generate` killed at random moments: the key file is always either the old
/// one or the new one, whole (the write is a temporary file, fsync, rename).
@Suite struct ProvisionKillTests {
    @Test func aKilledGenerateNeverLeavesAHalfKeyFile() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        var rows = ["nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret"]
        for index in 0..<2_000 {
            rows.append("86123456700\(String(format: "%04d", index)),,power-meter,0,,,hex:00112233445566778899AABBCCDDEEFF,DTLS,86400,")
        }
        fixture.directory.write("nbiot.csv", rows.joined(separator: "\n") + "\n")
        let file = fixture.directory.file("state/nbiot-connection-keys")
        // An unkilled run, timed: the kills land around its write.
        let start = ContinuousClock.now
        let full = try ChildProcess(Paths.edgegwBinary, ["provision", "generate", "--config", fixture.configPath])
        #expect(await full.waitForExit(timeout: .seconds(60)) == 0, "\(full.text)")
        let runTime = start.duration(to: .now)
        let old = "# old\n861234567000000,00112233445566778899AABBCCDDEEFF\n"
        var kept = 0, replaced = 0
        for attempt in 0..<16 {
            fixture.directory.write("state/nbiot-connection-keys", old, mode: 0o600)
            let process = try ChildProcess(Paths.edgegwBinary, ["provision", "generate", "--config", fixture.configPath])
            try await Task.sleep(for: runTime * (0.5 + 0.05 * Double(attempt)))
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(10))
            let text = try String(contentsOfFile: file, encoding: .utf8)
            if text == old {
                kept += 1
                continue
            }
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(lines.count == 2_000, "attempt \(attempt): \(lines.count) keys")
            #expect(lines.allSatisfy { $0.split(separator: ",").last?.count == 32 })
            #expect(text.contains("861234567000000,00112233445566778899AABBCCDDEEFF"), "the old key is kept")
            replaced += 1
        }
        print("provision generate (\(runTime)) killed 16 times: \(kept) left the old file, \(replaced) the new one, none half")
        #expect(kept + replaced == 16)
    }
}
