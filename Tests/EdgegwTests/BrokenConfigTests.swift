import Foundation
import Testing
import TestSupport

/// Typos in the config, through the `edgegw` binary: `check`, `run` and a SIGHUP reload each
/// report `file:line` and exit 1 (or keep the running config), never abort. Before, `[[[ not toml`
/// aborted all three with SIGABRT (an assertion in TOMLKit's toml++).
@Suite struct BrokenConfigTests {
    func runToExit(_ args: [String]) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, args)
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        if let status { #expect(process.process.terminationReason == .exit, "edgegw was killed by signal \(status)") }
        return (status, process.text)
    }

    static func lineCount(_ text: String) -> Int { text.split(separator: "\n", omittingEmptySubsequences: false).count }

    @Test func checkOnTheSampleConfigWithTheTypo() async throws {
        let tmp = TemporaryDirectory()
        let sample = try String(contentsOfFile: "\(Paths.packageRoot)/etc/edgegw/edgegw.toml", encoding: .utf8)
        let path = tmp.write("edgegw.toml", sample + "[[[ not toml\n")
        let (status, output) = try await runToExit(["check", "--config", path])
        #expect(status == 1)
        #expect(output.contains("\(path):\(Self.lineCount(sample)): invalid TOML: expected a key, found '[' (column 3)"), "\(output)")
        #expect(output.contains("1 problem found"))
    }

    /// Relatives of the typo, each appended to a valid config: (text, what the message says).
    static let relatives: [(String, [UInt8], String)] = [
        ("[[", Array("[[\n".utf8), "expected a key, found end of line"),
        ("[a.]", Array("[a.]\n".utf8), "expected a key, found ']'"),
        ("a = ", Array("a = \n".utf8), "expected a value, found end of line"),
        ("= 1", Array("= 1\n".utf8), "expected a key, found '='"),
        ("unterminated string", Array("a = \"abc\n".utf8), "string is not closed on its line"),
        ("bad escape", Array("a = \"\\q\"\n".utf8), "invalid escape sequence `\\q`"),
        ("[[log]] after [log]", Array("[[log]]\n".utf8), "already a table"),
        ("duplicate key", Array("level = \"info\"\n".utf8), "key defined twice"),
        ("10,000 nested arrays", Array(("a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n").utf8),
         "nested deeper than 128 levels"),
        ("NUL byte", Array("a = \"x\0y\"\n".utf8), "NUL byte"),
        ("invalid UTF-8", Array("a = \"".utf8) + [0xFF, 0x22, 0x0A], "not UTF-8 text: byte 0xFF"),
        ("lone CR", Array("a = 1\rb = 2\n".utf8), "carriage return without a line feed"),
        ("huge integer", Array("a = 99999999999999999999\n".utf8), "does not fit in 64 bits"),
    ]

    @Test func checkOnEveryRelative() async throws {
        for (name, bytes, message) in Self.relatives {
            let fixture = ConfigFixture()
            let config = ConfigFixture.mainConfig(cloudPort: 1883, stateDirectory: fixture.directory.file("state")) + "\n"
            try Data(Array(config.utf8) + bytes).write(to: URL(fileURLWithPath: fixture.configPath))
            let (status, output) = try await runToExit(["check", "--config", fixture.configPath])
            #expect(status == 1, "\(name)")
            #expect(output.contains("\(fixture.configPath):\(Self.lineCount(config)): "), "\(name): \(output)")
            #expect(output.contains(message), "\(name): \(output)")
        }
    }

    /// A broken product or device file is reported with its own file and line, with the rest.
    @Test func checkOnBrokenProductAndDeviceFiles() async throws {
        let fixture = ConfigFixture()
        fixture.directory.write("products/broken.toml", "[product]\nid = \"x\"\n[[[ not toml\n")
        fixture.directory.write("devices/broken.toml", "node_id = \"m\"\nname = \"\"\"never closed\n")
        let (status, output) = try await runToExit(["check", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("products/broken.toml:3: invalid TOML: expected a key, found '['"), "\(output)")
        #expect(output.contains("devices/broken.toml:2: invalid TOML: multi-line string is not closed"), "\(output)")
    }

    @Test func runRefusesTheTypo() async throws {
        let fixture = ConfigFixture(extra: "\n[[[ not toml\n")
        let (status, output) = try await runToExit(["run", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("not starting: 1 problem(s)"))
        #expect(output.contains("edgegw.toml:20: invalid TOML: expected a key, found '['"), "\(output)")
    }

    @Test func sighupWithTheTypoKeepsTheRunningConfig() async throws {
        let fixture = ConfigFixture()
        let notify = try NotifySocket(path: fixture.directory.file("notify.sock"))
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath],
                                      environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.receive()?.hasPrefix("READY=1") == true)

        fixture.writeConfig(extra: "\n[[[ not toml\n")
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForOutput("reload rejected: 1 problem(s); keeping the running configuration"))
        #expect(daemon.text.contains("edgegw.toml:20: invalid TOML: expected a key, found '['"), "\(daemon.text)")
        #expect(daemon.isRunning)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}
