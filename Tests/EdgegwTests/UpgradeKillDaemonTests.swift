import Foundation
import Testing
import TestSupport

/// Power cuts in the middle of a site's upgrade. The box: the daemon is SIGKILLed while modules
/// are downloading, a new daemon starts on the same state directory, and the upgrade finishes
/// from the package already on disk, each module resuming where it stopped. The modules: each
/// loses power mid-download and, back on, asks for the first fragment it misses.
@Suite(.serialized) struct UpgradeKillDaemonTests {
    static let children = 5
    static let packageSize = 100_000          // 200 fragments of 500 bytes

    @Test func aKilledDaemonResumesTheFanOutWithoutASecondDownload() async throws {
        // 100 fragments/s for 5 modules of 200 fragments: the fan-out takes about 10 s.
        let run = try await UpgradeRun(children: Self.children, packageSize: Self.packageSize,
                                       firstImei: 861_500_000_000_000, awaitUpgrade: 120, maxFragmentsPerSecond: 100,
                                       moduleArguments: ["--fragment-retries", "2", "--fragment-retry-interval", "1",
                                                         "--reconnect-when-unanswered"])
        defer { run.stop() }
        run.notifyEveryChild(sign: run.sign)

        // Mid-download: some child has reported progress, none has finished.
        #expect(await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(200)) {
            run.imeis.contains { imei in
                run.progressReports(child: "water-meter_\(imei)").contains { ($0["progress"] as? Int ?? 0) >= 20 }
            }
        }, "\(run.daemon.text.suffix(4000))")
        #expect(run.finalReports().isEmpty)
        let before = run.server.requests.filter { $0.path == "/pkg/meter-v2.bin" }
        #expect(before.count == 1, "\(before)")
        try await run.killAndRestartDaemon()

        #expect(await run.daemon.waitForOutput("PCP upgrade restored in", timeout: .seconds(20)), "\(run.daemon.text)")
        #expect(await run.modules.waitForOutput("UPGRADED", timeout: .seconds(120)), "\(run.daemon.text.suffix(6000))\n\(run.modules.text)")
        let upgraded = run.upgradedLine
        #expect(upgraded.hasPrefix("UPGRADED \(Self.children)/\(Self.children) "), "\(upgraded)\n\(run.daemon.text.suffix(6000))")
        #expect(!upgraded.contains("reconnects=0 "), "the modules never lost their server: \(upgraded)")
        #expect(await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500)) {
            run.finalReports().count == Self.children
        }, "\(run.daemon.text.suffix(6000))")
        #expect(run.childrenNotOnV2().isEmpty, "\(run.childrenNotOnV2())")

        // The package came over the uplink once, across both lives of the daemon.
        let gets = run.server.requests.filter { $0.path == "/pkg/meter-v2.bin" }
        print("kill mid-fan-out: \(upgraded); package GETs \(gets.count)")
        #expect(gets.count == 1, "\(gets)")
        #expect(gets.reduce(0) { $0 + $1.sent } == Self.packageSize)
        run.daemon.signal(SIGTERM)
        #expect(await run.daemon.waitForExit(timeout: .seconds(15)) == 0, "\(run.daemon.text.suffix(3000))")
    }

    @Test func modulesThatLosePowerMidDownloadResumeWhereTheyStopped() async throws {
        // 40 fragments each; power goes after 15 and comes back 3 s later.
        let run = try await UpgradeRun(children: Self.children, packageSize: 20_000,
                                       firstImei: 861_510_000_000_000, awaitUpgrade: 90,
                                       moduleArguments: ["--power-loss-after", "15", "--power-restore-after", "3"])
        defer { run.stop() }
        run.notifyEveryChild(sign: run.sign)
        #expect(await run.modules.waitForOutput("UPGRADED", timeout: .seconds(100)), "\(run.daemon.text.suffix(6000))\n\(run.modules.text)")
        let upgraded = run.upgradedLine
        #expect(upgraded.hasPrefix("UPGRADED \(Self.children)/\(Self.children) "), "\(upgraded)\n\(run.daemon.text.suffix(6000))")
        // Resumed from the first fragment missing: no fragment asked for twice.
        let requests = upgraded.split(separator: " ").first { $0.hasPrefix("fragment_requests=") }.flatMap { Int($0.dropFirst(18)) }
        #expect(requests == Self.children * 40, "\(upgraded)")
        #expect(await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500)) {
            run.finalReports().count == Self.children
        }, "\(run.daemon.text.suffix(6000))")
        #expect(run.childrenNotOnV2().isEmpty, "\(run.childrenNotOnV2())")
        #expect(run.server.requests.filter { $0.path == "/pkg/meter-v2.bin" }.count == 1)
    }
}
