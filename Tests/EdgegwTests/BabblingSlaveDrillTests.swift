import Foundation
import Testing
import TestSupport

/// Fault drill: a Modbus RTU bus (RS-485, here a socat pty pair) whose slave starts to babble,
/// random bytes as fast as the line takes them, for 10 s, then answers properly again. The
/// meter goes OFFLINE and comes back ONLINE without a restart; no value made of the babble is
/// ever reported; memory and the log stay bounded while it lasts.
@Suite(.serialized, .timeLimit(.minutes(3))) struct BabblingSlaveDrillTests {
    static let deviceId = "bus-meter_meter-5"

    @Test func aBabblingRTUSlaveGoesOfflineAndBackWithBoundedLogAndMemory() async throws {
        let (site, metricsPort) = try await Drill.site()
        let pty = try await SocatPty()
        defer { pty.stop() }
        // The slave: unit 5 answers function 3/4 with 1000 + the register's address (serial_sim.py).
        var slave = try await SerialSimulator.start(on: pty, ["--mode", "polled", "--modbus-unit", "5"])
        defer { slave.stop() }
        site.fixture.directory.write("products/bus-meter.toml", SerialDaemonTests.busMeter)
        site.fixture.directory.write("devices/meter-1.toml", """
            node_id = "meter-5"
            product_id = "bus-meter"
            unit_id = 5

            [transport]
            kind = "rtu"
            device = "\(pty.gatewayPath)"
            baud = 9600

            [[poll_groups]]
            name = "fast"
            interval_ms = 200

            [[points]]
            name = "reading"
            service_id = "Meter"
            table = "holding"
            address = 7
            type = "uint16"
            group = "fast"
            """)
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await Eventually.wait(timeout: .seconds(30)) { self.statuses(site).last == "ONLINE" && !self.readings(site).isEmpty },
                "\(daemon.text.suffix(3000))")
        let sampler = ResourceSampler(pid: daemon.pid)
        defer { sampler.stop() }

        // The slave babbles for 10 s.
        _ = await slave.stopAndWait()
        let linesBefore = Drill.lines(daemon.text).count
        let babbler = try await SerialSimulator.start(on: pty, ["--babble", "--seed", "11"])
        defer { babbler.stop() }
        let babbleStart = ContinuousClock.now
        #expect(await Eventually.wait(timeout: .seconds(20)) { self.statuses(site).last == "OFFLINE" },
                "\(self.statuses(site)) \(daemon.text.suffix(3000))")
        let remaining = Duration.seconds(10) - babbleStart.duration(to: .now)
        if remaining > .zero { try await Task.sleep(for: remaining) }
        let babbled = await babbler.stopAndWait()
        let babbleLines = Drill.lines(daemon.text).dropFirst(linesBefore)
        let responsesBefore = await Drill.scrape(port: metricsPort)?.value("edgegw_modbus_responses_total") ?? 0

        // It answers properly again: ONLINE, and its reading flows, without a restart.
        slave = try await SerialSimulator.start(on: pty, ["--mode", "polled", "--modbus-unit", "5"])
        #expect(await Eventually.wait(timeout: .seconds(30)) { self.statuses(site).last == "ONLINE" },
                "\(self.statuses(site)) \(daemon.text.suffix(3000))")
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            (await Drill.scrape(port: metricsPort)?.value("edgegw_modbus_responses_total") ?? 0) > responsesBefore + 10
        })
        sampler.stop()
        let scrape = await Drill.scrape(port: metricsPort)
        let growth = sampler.growth(after: .seconds(2)) ?? 0
        let crcErrors = Int(scrape?.value("edgegw_modbus_crc_errors_total") ?? 0)
        let bad = Int(scrape?.value("edgegw_modbus_bad_responses_total") ?? 0)
        let timeouts = Int(scrape?.value("edgegw_modbus_timeouts_total") ?? 0)
        print("figure: an RTU slave babbling for 10 s (\(babbled?.bytes ?? 0) bytes): \(babbleLines.count) log lines, crc errors \(crcErrors), bad responses \(bad), timeouts \(timeouts); statuses \(self.statuses(site)); \(sampler.summary), growth \(Drill.mib(growth))")

        #expect((babbled?.bytes ?? 0) > 10_000, "the slave did not babble: \(babbled.map { "\($0)" } ?? "no summary")")
        // Only what the slave really holds is ever reported.
        #expect(readings(site).allSatisfy { $0 == 1007 }, "\(readings(site).filter { $0 != 1007 }.prefix(20))")
        // Bounded log: a few lines about the bus and the meter, not one per garbled answer.
        #expect(babbleLines.count <= 20, "\(babbleLines.count) lines:\n\(babbleLines.suffix(40).joined(separator: "\n"))")
        #expect(growth < 24 * 1_048_576, "\(sampler.summary)")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty })
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.text.suffix(3000))")
    }

    func readings(_ site: CloudSite) -> [Int] {
        site.platform.records.flatMap { record -> [Int] in
            guard record.topic.hasSuffix("/sys/gateway/sub_devices/properties/report"),
                  let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any] else { return [] }
            return (json["devices"] as? [[String: Any]] ?? []).filter { $0["device_id"] as? String == Self.deviceId }
                .flatMap { $0["services"] as? [[String: Any]] ?? [] }
                .compactMap { ($0["properties"] as? [String: Any])?["reading"] as? Int }
        }
    }

    func statuses(_ site: CloudSite) -> [String] {
        site.events("sub_device_update_status").flatMap { service -> [String] in
            ((service["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]] ?? [])
                .filter { $0["device_id"] as? String == Self.deviceId }
                .compactMap { $0["status"] as? String }
        }
    }
}
