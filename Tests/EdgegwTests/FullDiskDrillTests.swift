import Foundation
import Testing
import TestSupport

/// Fault drill: the daemon's state directory on a small filesystem of its own (a 4 MiB tmpfs the
/// test mounts) that fills up while the cloud is away, and empties again. Readings stored before
/// the disk filled are delivered; status changes made while it was full go out from memory;
/// readings that could not be stored are dropped and counted (README, "Delivery guarantee");
/// the condition is logged once when it starts and once when it clears; it recovers without a
/// restart and delivers every reading taken after space returned.
@Suite(.serialized, .timeLimit(.minutes(4))) struct FullDiskDrillTests {
    @Test func aFullStateDiskDropsOnlyWhatItCannotStoreAndRecoversWithoutARestart() async throws {
        let filesystem: SmallFilesystem
        switch SmallFilesystem.mount(bytes: 4 * 1024 * 1024) {
        case .success(let mounted): filesystem = mounted
        case .failure(let why):
            // Said, not skipped: OutboxFullDiskTests proves the outbox's part without root.
            print("no small filesystem (\(why)): the daemon-level full-disk drill needs root to mount a tmpfs")
            return
        }
        let state = filesystem.file("state")
        let (site, metricsPort) = try await Drill.site(persistentBroker: true, hourMargin: 150)
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "state_directory = \"\(site.stateDirectory)\"", with: "state_directory = \"\(state)\"")
        site.fixture.directory.write("edgegw.toml", config)
        let meter = try await CounterMeter(site: site)
        defer { meter.peer.stop() }
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await Eventually.wait(timeout: .seconds(30)) { CounterMeter.received(site).contains(1) }, "\(daemon.text.suffix(3000))")
        let sampler = ResourceSampler(pid: daemon.pid)
        defer { sampler.stop() }

        // The cloud goes away; readings are stored in the outbox.
        await site.broker.stopGracefully()
        #expect(await daemon.waitForOutput("cloud link lost", timeout: .seconds(20)))
        for _ in 0..<10 { #expect(await meter.step()) }
        let storedUpTo = meter.value
        #expect(await Eventually.wait(timeout: .seconds(20)) { (await Drill.outboxMessages(site) ?? 0) > 0 })

        // The disk fills. Readings keep coming; the meter goes silent (OFFLINE) and answers again (ONLINE).
        let linesBefore = Drill.lines(daemon.text).count
        filesystem.fill()
        #expect(filesystem.available == 0)
        let fullFrom = meter.value + 1
        for _ in 0..<10 { #expect(await meter.step()) }
        await meter.peer.mode(unit: 1, "silent")
        #expect(await Eventually.wait(timeout: .seconds(30)) { await self.meterStatus(site) == "OFFLINE" }, "\(daemon.text.suffix(2000))")
        // Past the status coalescing window (1 s), so OFFLINE and ONLINE are two changes.
        try await Task.sleep(for: .seconds(2))
        await meter.peer.mode(unit: 1, "ok")
        #expect(await Eventually.wait(timeout: .seconds(30)) { await self.meterStatus(site) == "ONLINE" }, "\(daemon.text.suffix(2000))")
        for _ in 0..<5 { #expect(await meter.step()) }
        let fullTo = meter.value

        // The cloud returns while the disk is still full: what was stored goes out, and so do
        // the status changes held in memory.
        try await site.broker.start()
        #expect(await Eventually.wait(timeout: .seconds(30)) { Set(CounterMeter.received(site)).isSuperset(of: 1...storedUpTo) },
                "missing \(Set(1...storedUpTo).subtracting(CounterMeter.received(site)).sorted())\n\(daemon.text.suffix(3000))")
        #expect(await Eventually.wait(timeout: .seconds(30)) { self.statuses(site).suffix(2) == ["OFFLINE", "ONLINE"] },
                "\(self.statuses(site)) \(daemon.text.suffix(3000))")
        let fullLines = Drill.lines(daemon.text).dropFirst(linesBefore)

        // Space returns: no restart; the outbox empties and every later reading is delivered.
        filesystem.free()
        let recoveredFrom = meter.value + 1
        for _ in 0..<10 { #expect(await meter.step()) }
        let last = meter.value
        #expect(await Eventually.wait(timeout: .seconds(30)) { Set(CounterMeter.received(site)).isSuperset(of: recoveredFrom...last) },
                "missing \(Set(recoveredFrom...last).subtracting(CounterMeter.received(site)).sorted())\n\(daemon.text.suffix(3000))")
        #expect(await Eventually.wait(timeout: .seconds(30), poll: .milliseconds(500)) { await Drill.outboxMessages(site) == 0 })
        #expect(await daemon.waitForOutput("works again", timeout: .seconds(20)), "\(daemon.text.suffix(3000))")
        sampler.stop()
        let scrape = await Drill.scrape(port: metricsPort)
        let droppedForStorage = Int(scrape?.value("edgegw_outbox_dropped_total", ["reason": "storage"]) ?? -1)
        let lostWhileFull = Set(fullFrom...fullTo).subtracting(CounterMeter.received(site)).count
        let diskLines = Drill.lines(daemon.text).filter { $0.contains("disk") || $0.contains("storage") || $0.contains("works again") }
        let growth = sampler.growth(after: .seconds(2)) ?? 0
        print("figure: state disk full for \(fullTo - fullFrom + 1) readings and two status changes: \(lostWhileFull) readings dropped in \(droppedForStorage) report message(s), counted, statuses delivered from memory; \(fullLines.count) log lines while full, \(diskLines.count) about the disk; \(sampler.summary), growth \(Drill.mib(growth))")

        // Dropped ones are counted, never silently lost.
        #expect(droppedForStorage >= 1)
        // Logged once when it started and once when it cleared.
        #expect(Drill.lines(daemon.text).filter { $0.contains("works again") }.count == 1, "\(diskLines)")
        #expect(fullLines.count <= 30, "\(fullLines.count) lines:\n\(fullLines.joined(separator: "\n"))")
        #expect(growth < 24 * 1_048_576, "\(sampler.summary)")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty })
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.text.suffix(3000))")
    }

    /// The meter's status as the daemon holds it (`edgegw devices --json`).
    func meterStatus(_ site: CloudSite) async -> String? {
        guard let process = try? ChildProcess(Paths.edgegwBinary, ["devices", "--json", "--config", site.fixture.configPath]),
              await process.waitForExit(timeout: .seconds(30)) == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(process.text.utf8)) else { return nil }
        let devices = (json as? [[String: Any]]) ?? ((json as? [String: Any])?["devices"] as? [[String: Any]]) ?? []
        return devices.first { $0["nodeId"] as? String == "meter-1" }?["status"] as? String
    }

    func statuses(_ site: CloudSite) -> [String] {
        site.events("sub_device_update_status").flatMap { service -> [String] in
            ((service["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]] ?? [])
                .filter { $0["device_id"] as? String == CounterMeter.deviceId }
                .compactMap { $0["status"] as? String }
        }
    }
}
