import Foundation
import Testing
import TestSupport
@testable import IoTDA

/// `edgegw run` with TLS (the default) while the cloud is down at start: the link fails and backs
/// off without burning a core, connects when the broker appears, and SIGTERM ends the daemon with
/// status 0 well inside the shutdown bound (10 s), not in ServiceGroup's cancellation crash.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TLSOutageDaemonTests {
    @Test func tlsCloudDownAtStartThenUpThenDownAgainAndSIGTERM() async throws {
        let fixture = ConfigFixture()
        let secret = "s3cret-for-tests"
        let password = HMACSHA256.hex(key: ConnectTimestamp(Date()).text, message: secret)
        let broker = try await MosquittoBroker(users: [.init(name: "gw-test-0001", password: password)], tls: true)   // not started
        defer { broker.stop() }
        let caFile = try #require(broker.caFile)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "port = 1883", with: "port = \(broker.port)")
            .replacingOccurrences(of: "tls = false", with: "tls = true\nca_file = \"\(caFile)\"")
        fixture.directory.write("edgegw.toml", config)

        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
        #expect(await daemon.waitForOutput("cloud connection failed", timeout: .seconds(20)), "\(daemon.text)")
        #expect(daemon.text.contains("Connection refused"), "\(daemon.text)")

        // Five seconds of outage: a link thread spinning in mosquitto_loop would use about 5 s of CPU.
        let before = Self.cpu(of: daemon.pid)
        try await Task.sleep(for: .seconds(5))
        let used = Self.cpu(of: daemon.pid) - before
        #expect(used < .milliseconds(500), "edgegw used \(used) of CPU in a 5 s outage")
        #expect(daemon.text.components(separatedBy: "cloud connection failed").count == 2, "one line per change of state: \(daemon.text)")

        // The broker appears: the next attempt of the backoff (1, 2, 4 s ... after 5 s of failures) connects.
        let appeared = ContinuousClock.now
        try await broker.start()
        #expect(await daemon.waitForOutput("cloud connected (connection", timeout: .seconds(15)), "\(daemon.text)")
        let reconnect = ContinuousClock.now - appeared
        #expect(daemon.text.contains("failed attempts over"))

        // Down again, then SIGTERM while the link is down.
        await broker.stopAndWait()
        #expect(await daemon.waitForOutput("cloud link lost", timeout: .seconds(20)), "\(daemon.text)")
        try await Task.sleep(for: .milliseconds(300))
        let stopping = ContinuousClock.now
        daemon.signal(SIGTERM)
        let status = await daemon.waitForExit(timeout: .seconds(15))
        let stopTook = ContinuousClock.now - stopping
        #expect(status == 0, "\(daemon.text.suffix(3000))")
        #expect(stopTook < .seconds(5), "SIGTERM took \(stopTook)")   // the bound is 10 s
        #expect(!daemon.text.contains("Fatal error"))
        print("edgegw over TLS: \(used) CPU in a 5 s outage, connected \(reconnect) after the broker came up, SIGTERM while down took \(stopTook)")
    }

    /// utime + stime of a process, from /proc.
    static func cpu(of pid: Int32) -> Duration {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .zero }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return .zero }
        return .seconds((utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK))))
    }
}
