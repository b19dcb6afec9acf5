import Foundation
import Testing
import TestSupport

/// `edgegw check` on configurations that `run` (or the platform) would refuse: each problem is
/// reported, with `file:line` wherever a line names it.
@Suite struct CheckCommandTests {
    /// Runs `edgegw check` on the fixture; returns its exit status and output.
    func check(_ fixture: ConfigFixture) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, ["check", "--config", fixture.configPath])
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        return (status, process.text)
    }

    /// `path:N` where N is the line of the first line of `path` that starts with `prefix`.
    func location(_ path: String, _ prefix: String) throws -> String {
        let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasPrefix(prefix) }, "no line starting with \(prefix) in \(path)")
        return "\(path):\(index + 1)"
    }

    /// Runs `edgegw check`, which must refuse the fixture; returns its output and `path:N` of the
    /// line starting with `prefix` in `path` (edgegw.toml by default), where the problem is reported.
    func refused(_ fixture: ConfigFixture, at prefix: String, in path: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws -> (output: String, at: String) {
        let (status, output) = try await check(fixture)
        #expect(status == 1, "\(output)", sourceLocation: sourceLocation)
        let at = try location(path ?? fixture.configPath, prefix)
        return (output, at)
    }

    /// The fixture's edgegw.toml with one piece of text replaced.
    func replacing(_ fixture: ConfigFixture, _ old: String, with new: String) throws {
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        #expect(text.contains(old))
        fixture.directory.write("edgegw.toml", text.replacingOccurrences(of: old, with: new))
    }

    @Test func aDeviceIdLongerThanThePlatformAllowsIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture()
        try replacing(fixture, "gw-test-0001", with: String(repeating: "a", count: 300))
        let (output, at) = try await refused(fixture, at: "device_id")
        #expect(output.contains("\(at): gateway.device_id: device_id is 300 characters long; the platform allows 1 to 128"), "\(output)")
        #expect(output.contains("1 problem found"), "\(output)")

        // 128 is the longest accepted.
        try replacing(fixture, String(repeating: "a", count: 300), with: String(repeating: "a", count: 128))
        let (ok, text) = try await check(fixture)
        #expect(ok == 0, "\(text)")
    }

    @Test func aDeviceIdWithCharactersThePlatformRefusesIsRefused() async throws {
        let fixture = ConfigFixture()
        try replacing(fixture, "gw-test-0001", with: "gw.test:0001")
        let (output, at) = try await refused(fixture, at: "device_id")
        #expect(output.contains("\(at): gateway.device_id: device_id \"gw.test:0001\" has '.', which the platform does not allow"
                                + " (fix: use only letters, digits, '_' and '-')"), "\(output)")
    }

    @Test func aDevicesFolderThatIsMissingIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\ndevices = \"field-devices\"\n")
        let (output, at) = try await refused(fixture, at: "devices =")
        let folder = fixture.directory.file("field-devices")
        #expect(output.contains("\(at): paths.devices: folder \(folder) does not exist"), "\(output)")
        #expect(!output.contains(": OK"))
    }

    @Test func aDevicesFolderThatIsASymlinkLoopIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\ndevices = \"loop\"\n")
        try FileManager.default.createSymbolicLink(atPath: fixture.directory.file("loop"), withDestinationPath: "loop")
        let (output, at) = try await refused(fixture, at: "devices =")
        #expect(output.contains("\(at): paths.devices: folder \(fixture.directory.file("loop")) cannot be opened: a symbolic link loop"),
                "\(output)")
    }

    @Test func aProductsPathThatIsAFileIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nproducts = \"products/power-meter.toml\"\n")
        let (output, at) = try await refused(fixture, at: "products =")
        #expect(output.contains("\(at): paths.products: \(fixture.directory.file("products/power-meter.toml")) is not a folder"),
                "\(output)")
    }

    @Test func aStateDirectoryThatIsARegularFileIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture()
        let file = fixture.directory.write("state-file", "not a folder\n")
        fixture.writeConfig(stateDirectory: file)
        let (output, at) = try await refused(fixture, at: "state_directory")
        #expect(output.contains("\(at): store.state_directory: \(file) is not a folder"), "\(output)")

        // A folder to be made under a file cannot be made either.
        fixture.writeConfig(stateDirectory: file + "/state")
        let (status2, output2) = try await check(fixture)
        #expect(status2 == 1)
        #expect(output2.contains("\(at): store.state_directory: \(file)/state cannot be created: \(file) is not a folder"), "\(output2)")

        // A folder that does not exist yet is created by `run`.
        fixture.writeConfig(stateDirectory: fixture.directory.file("new/state"))
        let (ok, text) = try await check(fixture)
        #expect(ok == 0, "\(text)")
    }

    @Test func aMissingCAFileIsReportedAtItsLine() async throws {
        let fixture = ConfigFixture()
        try replacing(fixture, "tls = false\n", with: "tls = true\nca_file = \"ca/root.pem\"\n")
        let (output, at) = try await refused(fixture, at: "ca_file")
        #expect(output.contains("\(at): cloud.ca_file: CA file \(fixture.directory.file("ca/root.pem")) cannot be read"), "\(output)")
    }

    @Test func aMissingNBIoTDeviceListIsReportedAtItsLine() async throws {
        for name in ["nbiot.csv", "nbiot.toml"] {
            let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"\(name)\"\n")
            let (output, at) = try await refused(fixture, at: "nbiot_devices")
            #expect(output.contains("\(at): paths.nbiot_devices: the NB-IoT device list \(fixture.directory.file(name)) does not exist"),
                    "\(output)")
            #expect(output.contains("1 problem found"), "\(output)")
        }
    }

    @Test func aMissingPSKSecretsFileIsReportedAtItsLine() async throws {
        let fixture = ConfigFixture(extra: "\n[lwm2m]\npsk_secrets_file = \"secrets/nbiot-psk\"\n\n[paths]\nnbiot_devices = \"nb.csv\"\n")
        fixture.directory.write("nb.csv", "nodeId,productId,secure\n861234567890124,power-meter,DTLS\n")
        let (output, at) = try await refused(fixture, at: "psk_secrets_file")
        #expect(output.contains("\(at): lwm2m.psk_secrets_file: secret file \(fixture.directory.file("secrets/nbiot-psk")) does not exist"),
                "\(output)")
    }

    @Test func aNodeIdThatMakesTooLongADeviceIdIsRefusedWithItsLine() async throws {
        let fixture = ConfigFixture()
        // The platform names the child "power-meter_<node_id>": 12 + 117 = 129 characters.
        let long = String(repeating: "n", count: 117)
        let device = fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(nodeId: long, unitId: 2))
        let (status, output) = try await check(fixture)
        #expect(status == 1)
        #expect(output.contains("\(device):1: node_id: node_id is 117 characters long; with product power-meter the platform's"
                                + " device_id power-meter_\(long.prefix(8))… would be 129, and it allows 128"), "\(output)")
        fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(nodeId: "meter:2", unitId: 2))
        let (_, output2) = try await check(fixture)
        #expect(output2.contains("\(device):1: node_id: node_id \"meter:2\" has ':', which the platform does not allow in"
                                 + " the device_id power-meter_meter:2"), "\(output2)")
        fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(nodeId: String(long.dropLast()), unitId: 2))
        let (ok, text) = try await check(fixture)
        #expect(ok == 0, "\(text)")
    }

    @Test func twoSlavesWithOneUnitIdOnOneBusAreReportedAtTheUnitIdLine() async throws {
        let fixture = ConfigFixture()
        let device = fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(nodeId: "meter-2", unitId: 1))
        let (output, at) = try await refused(fixture, at: "unit_id", in: device)
        #expect(output.contains("\(at): unit_id: unit 1 on bus tcp:127.0.0.1:1 is also \(fixture.directory.file("devices/meter-1.toml")):4"),
                "\(output)")
    }

    @Test func aNodeIdUsedByAModbusDeviceAndAnNBIoTDeviceIsReportedAtTheModbusFilesLine() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"nb.csv\"\n")
        let list = fixture.directory.write("nb.csv", "nodeId,productId,secure,psk\nmeter-1,power-meter,DTLS,12345678\n")
        let (status, output) = try await check(fixture)
        #expect(status == 1)
        #expect(output.contains("\(fixture.directory.file("devices/meter-1.toml")):1: node_id: node_id \"meter-1\" is already used by a device in \(list)"),
                "\(output)")
    }

    @Test func sighupRefusesADevicesFolderThatIsGone() async throws {
        let fixture = ConfigFixture(extra: "\n[paths]\ndevices = \"devices\"\n")
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
        // Waits on the log, not on a blocking notify socket, to leave the test threads free.
        try #require(await daemon.waitForOutput("ready status="))
        try FileManager.default.moveItem(atPath: fixture.directory.file("devices"), toPath: fixture.directory.file("devices.old"))
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForOutput("reload rejected: 1 problem(s); keeping the running configuration"))
        #expect(daemon.text.contains("paths.devices: folder \(fixture.directory.file("devices")) does not exist"), "\(daemon.text)")
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}
