import Foundation
import Testing
import TestSupport

/// Fault drill, the daemon's side of `HandshakeFloodTests`: `edgegw run` takes a flood of DTLS
/// handshakes that cannot succeed (known IMEIs with wrong keys, unknown IMEIs) while real modules
/// register. Every real module is registered and observed; the failures are counted, not logged
/// one by one; a second flood takes no more memory than the first (each failed session is freed
/// and its memory reused).
@Suite(.serialized, .timeLimit(.minutes(3))) struct HandshakeFloodDrillTests {
    static let floodIMEI: UInt64 = 861_234_568_100_000
    static let realIMEI: UInt64 = 861_234_568_200_000

    var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    /// The simulator's devices as a device list (seed 1: the keys the daemon knows).
    func deviceList(first: UInt64, count: Int) async throws -> [Substring] {
        let list = try ChildProcess(simulator, ["device-list", "--devices", "\(count)", "--first-imei", "\(first)", "--seed", "1"])
        #expect(await list.waitForExit(timeout: .seconds(30)) == 0, "\(list.text)")
        return list.text.split(separator: "\n")
    }

    @Test func realModulesRegisterThroughAFloodOfBadHandshakesWithBoundedMemoryAndLog() async throws {
        let (site, metricsPort) = try await Drill.site()
        let flood = try await deviceList(first: Self.floodIMEI, count: 400)
        let real = try await deviceList(first: Self.realIMEI, count: 30)
        let coaps = try site.enableLwM2M(lwm2m: "coap_threads = 2", devices: (flood + real.dropFirst()).joined(separator: "\n") + "\n")
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await daemon.waitForOutput("lwm2m listening", timeout: .seconds(30)), "\(daemon.text)")
        let sampler = ResourceSampler(pid: daemon.pid)
        defer { sampler.stop() }
        try await Task.sleep(for: .seconds(2))
        let linesBefore = Drill.lines(daemon.text).count

        // Two floods of 100 bad handshakes every 500 ms for 3 s: two of three with a known IMEI
        // and the wrong key (seed 2), one of three with an IMEI the daemon does not know. The real
        // modules, with their keys, register in the middle of the first.
        var realModules: ChildProcess?
        defer { realModules?.stop() }
        var settled: [Int] = []
        let drillStart = ContinuousClock.now
        for flood in 0..<2 {
            var storms: [ChildProcess] = []
            defer { for storm in storms { storm.stop() } }
            let floodStart = ContinuousClock.now
            for round in 0..<6 {
                let first = round % 3 == 2 ? "990000000000000" : "\(Self.floodIMEI)"
                storms.append(try ChildProcess(simulator, ["storm", "--port", "\(coaps)", "--devices", "100", "--first-imei", first,
                                                           "--offset", "\((round % 4) * 100)", "--seed", "2", "--deadline", "4", "--threads", "1"]))
                if flood == 0 && round == 2 {
                    realModules = try ChildProcess(simulator, ["storm", "--port", "\(coaps)", "--devices", "30", "--first-imei", "\(Self.realIMEI)",
                                                               "--seed", "1", "--deadline", "30", "--threads", "1", "--expect-observe"])
                }
                try await Task.sleep(until: floodStart + .milliseconds(500 * (round + 1)))
            }
            for storm in storms { _ = await storm.waitForExit(timeout: .seconds(30)) }
            // Settled: what the failed sessions took is reused by the next flood, not added to.
            try await Task.sleep(for: .seconds(2))
            settled.append(sampler.samples.suffix(3).map(\.residentBytes).max() ?? 0)
        }
        let modules = try #require(realModules)
        #expect(await modules.waitForExit(timeout: .seconds(40)) == 0, "\(modules.text)")
        let summary = modules.text.split(separator: "\n").first { $0.hasPrefix("devices=") }.map(String.init) ?? modules.text
        let observe = modules.text.split(separator: "\n").first { $0.hasPrefix("clienthello_to_observe") }.map(String.init) ?? ""
        sampler.stop()
        // The server lets 10 warnings of a kind through per 10 s window (and one "repeated" line).
        // (+1: the windows need not start with the drill).
        let windows = Int((drillStart.duration(to: .now) / .seconds(10)).rounded(.up)) + 1
        let lines = Drill.lines(daemon.text).dropFirst(linesBefore)
        let scrape = await Drill.scrape(port: metricsPort)
        let failed = Int(scrape?.value("edgegw_nbiot_handshakes_total", ["outcome": "failed"]) ?? 0)
        let unknown = Int(scrape?.value("edgegw_nbiot_handshakes_total", ["outcome": "unknown_identity"]) ?? 0)
        let open = Int(scrape?.value("edgegw_nbiot_sessions_open") ?? -1)
        let baseline = sampler.samples.first?.residentBytes ?? 0
        let peak = sampler.samples.map(\.residentBytes).max() ?? 0
        print("figure: two floods of 600 bad handshakes in 3 s (\(failed) failed, \(unknown) unknown identities counted): \(summary); \(observe); \(lines.count) log lines in \(windows) rate-limit windows (\(Drill.kinds(lines))); sessions open after \(open); RSS \(Drill.mib(baseline)) -> after the first flood \(Drill.mib(settled[0])), after the second \(Drill.mib(settled[1])), peak \(Drill.mib(peak))")

        #expect(summary.contains("devices=30 finished=30 "), "\(modules.text)\n\(daemon.text.suffix(3000))")
        #expect(failed + unknown >= 500, "\(failed) failed, \(unknown) unknown")
        // Bounded log: the registrations, and rate-limited lines about the failures (a few kinds,
        // each at most 10 a window): by the window, not by the handshake.
        #expect(lines.count <= 40 + 60 * windows, "\(lines.count) lines in \(windows) windows:\n\(lines.suffix(60).joined(separator: "\n"))")
        // Bounded memory: the second flood reuses what the first took; the peak stays modest.
        #expect(settled[1] - settled[0] < 8 * 1_048_576, "\(sampler.summary)")
        #expect(peak - baseline < 96 * 1_048_576, "\(sampler.summary)")
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.text.suffix(3000))")
    }
}
