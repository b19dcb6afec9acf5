import Foundation
import Testing
import TestSupport

/// The `edgegw` binary as a technician and systemd use it.
@Suite struct BinaryTests {
    func runToExit(_ args: [String], environment: [String: String]? = nil) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, args, environment: environment)
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        return (status, process.text)
    }

    @Test func checkPrintsASummaryOfAValidConfig() async throws {
        let fixture = ConfigFixture()
        let (status, output) = try await runToExit(["check", "--config", fixture.configPath])
        #expect(status == 0)
        #expect(output.contains("\(fixture.configPath): OK"))
        #expect(output.contains("1 product(s): power-meter"))
        #expect(output.contains("1 device(s): 1 Modbus, 0 NB-IoT"))
        #expect(!output.contains("s3cret"))
    }

    @Test func checkListsEveryProblemAndExits1() async throws {
        let fixture = ConfigFixture(extra: "\n[limits]\nshutdown_secnds = 5\n")
        fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(unitId: 2))
        try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: fixture.secretPath)
        let (status, output) = try await runToExit(["check", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("edgegw.toml:"))
        #expect(output.contains("limits.shutdown_secnds: unknown key (fix: did you mean `shutdown_seconds`?)"))
        #expect(output.contains("meter-2.toml:1: node_id: node_id \"meter-1\" is already used"))
        #expect(output.contains("gateway.secret_file: secret file"))
        #expect(output.contains("3 problems found"))
        #expect(!output.contains("Fatal error"))
    }

    @Test func checkOnInvalidTOMLAndAMissingFile() async throws {
        let tmp = TemporaryDirectory()
        let bad = tmp.write("edgegw.toml", "[gateway\ndevice_id = 1\n")
        let (status, output) = try await runToExit(["check", "--config", bad])
        #expect(status == 1)
        #expect(output.contains("edgegw.toml:1: invalid TOML"))
        let (status2, output2) = try await runToExit(["check", "--config", tmp.file("missing.toml")])
        #expect(status2 == 1)
        #expect(output2.contains("missing.toml: file does not exist"))
    }

    @Test func runRefusesAnInvalidConfigWithExit1() async throws {
        let fixture = ConfigFixture()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.secretPath)
        let (status, output) = try await runToExit(["run", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("not starting: 1 problem(s)"))
        #expect(!output.contains("s3cret"))
    }

    @Test func sigtermShutsDownGracefullyAndTellsSystemd() async throws {
        let fixture = ConfigFixture()
        let notify = try NotifySocket(path: fixture.directory.file("notify.sock"))
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath],
                                      environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.receive()?.hasPrefix("READY=1") == true)
        #expect(daemon.text.contains("state store open"))
        #expect(FileManager.default.fileExists(atPath: fixture.directory.file("state/edgegw.sqlite")))
        daemon.signal(SIGTERM)
        #expect(notify.receive() == "STOPPING=1")
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        #expect(daemon.text.contains("stopped"))
        #expect(!daemon.text.contains("s3cret"))
    }

    @Test func sighupWithABrokenFileKeepsTheRunningConfig() async throws {
        let fixture = ConfigFixture()
        let notify = try NotifySocket(path: fixture.directory.file("notify.sock"))
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath],
                                      environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.receive()?.hasPrefix("READY=1") == true)

        fixture.directory.write("devices/meter-1.toml", ConfigFixture.device.replacingOccurrences(of: "\"power-meter\"", with: "\"nope\""))
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForOutput("reload rejected: 1 problem(s); keeping the running configuration"))
        #expect(daemon.text.contains("no product model \"nope\" was loaded"))
        #expect(daemon.isRunning)

        fixture.directory.write("devices/meter-1.toml", ConfigFixture.device)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForOutput("configuration reloaded: log level applied; device, product and cloud changes take effect at the next restart generation=2"))

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }

    @Test func versionNamesTheLinkedLibraries() async throws {
        let (status, output) = try await runToExit(["version"])
        #expect(status == 0)
        #expect(output.contains("libcoap 4.3.1 (GnuTLS, DTLS yes)"))
        #expect(output.contains("libmodbus 3.1."))
        #expect(output.contains("libmosquitto 2."))
    }

    @Test func systemdAcceptsTheUnit() async throws {
        // scripts/install-deps.sh installs systemd for this check.
        try #require(Paths.hasProgram("systemd-analyze"))
        let tmp = TemporaryDirectory()
        let unit = try String(contentsOfFile: Paths.packageRoot + "/systemd/edgegw.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/edgegw", with: Paths.edgegwBinary)
        let path = tmp.write("edgegw.service", unit)
        let verify = try ChildProcess("/usr/bin/systemd-analyze", ["verify", path])
        let rc = await verify.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        #expect(rc == 0, "\(verify.text)")
    }
}

@Suite struct CredentialsCommandTests {
    @Test func printsTheThreeConnectFields() async throws {
        let dir = TemporaryDirectory()
        let secret = dir.write("secret", "mySecret123\n", mode: 0o600)
        let process = try ChildProcess(Paths.edgegwBinary, ["credentials", "--device-id", "60a87ffebaccd902c2f1abbb_0001",
                                                            "--secret-file", secret, "--time", "2018072417"])
        #expect(await process.waitForExit() == 0)
        try? await Task.sleep(for: .milliseconds(50))
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"2018072417",b"mySecret123",hashlib.sha256).hexdigest())'
        #expect(process.text == """
            client_id: 60a87ffebaccd902c2f1abbb_0001_0_0_2018072417
            username: 60a87ffebaccd902c2f1abbb_0001
            password: 44e7b99f5b75f3628995dfa64fbb00c8e466621355c056617df9aefc6f292753

            """)
    }

    @Test func refusesASecretOthersCanRead() async throws {
        let dir = TemporaryDirectory()
        let secret = dir.write("secret", "mySecret123\n", mode: 0o640)
        let process = try ChildProcess(Paths.edgegwBinary, ["credentials", "--device-id", "gw", "--secret-file", secret])
        #expect(await process.waitForExit() == 1)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(process.text.contains("chmod 600"))
        #expect(!process.text.contains("mySecret123"))
    }
}
