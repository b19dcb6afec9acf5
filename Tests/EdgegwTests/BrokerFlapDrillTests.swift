import Foundation
import Testing
import TestSupport

/// Fault drill: the cloud's broker goes down and comes back every few seconds for 25 s
/// while a Modbus meter's counter steps. The broker is persistent and so is the platform's session,
/// so whatever the broker acknowledged reaches the platform: a value missing there was lost by
/// the gateway. README promises: nothing acknowledged is lost, bounded memory, bounded logs,
/// recovery without a restart.
@Suite(.serialized, .timeLimit(.minutes(4))) struct BrokerFlapDrillTests {
    @Test func aFlappingBrokerLosesNoReadingAndTheLogGrowsPerOutageNotPerAttempt() async throws {
        let (site, metricsPort) = try await Drill.site(persistentBroker: true, hourMargin: 150)
        let meter = try await CounterMeter(site: site)
        defer { meter.peer.stop() }
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await Eventually.wait(timeout: .seconds(30)) { CounterMeter.received(site).contains(1) }, "\(daemon.text.suffix(3000))")
        let sampler = ResourceSampler(pid: daemon.pid)
        defer { sampler.stop() }
        let linesBefore = Drill.lines(daemon.text).count

        // The counter steps as fast as the gateway reads it (a poll every 200 ms) ...
        let stepping = Task {
            var unread = 0
            while !Task.isCancelled {
                if !(await meter.step()) { unread += 1 }
            }
            return unread
        }
        // ... while the broker is down 1–2 s, up 2–3 s, for 25 s.
        let flapStart = ContinuousClock.now
        var flaps = 0
        var random = SplitMix64(seed: 17)
        while flapStart.duration(to: .now) < .seconds(25) {
            await site.broker.stopGracefully()
            flaps += 1
            try await Task.sleep(for: .milliseconds(1000 + Int(random.next() % 1000)))
            try await site.broker.start()
            try await Task.sleep(for: .milliseconds(2000 + Int(random.next() % 1000)))
        }
        stepping.cancel()
        let unread = await stepping.value
        let last = meter.value - (unread > 0 ? 1 : 0)
        let flapLines = Drill.lines(daemon.text).dropFirst(linesBefore)

        // Settled: the outbox empties and every value the gateway read is at the platform.
        let settling = ContinuousClock.now
        let delivered = await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500)) {
            Set(CounterMeter.received(site)).isSuperset(of: 1...last)
        }
        let settled = settling.duration(to: .now)
        let emptied = await Eventually.wait(timeout: .seconds(30), poll: .milliseconds(500)) { await Drill.outboxMessages(site) == 0 }
        sampler.stop()
        let received = CounterMeter.received(site)
        let missing = Set(1...last).subtracting(received).sorted()
        let scrape = await Drill.scrape(port: metricsPort)
        let replaced = Int(scrape?.value("edgegw_modbus_values_replaced_total") ?? 0)
        let connects = Int(scrape?.value("edgegw_cloud_connects_total") ?? 0)
        let growth = sampler.growth(after: .seconds(10)) ?? 0
        let failedLines = flapLines.filter { $0.contains("cloud connection failed") }.count
        print("figure: broker down \(flaps) times in 25 s: \(last) values read, \(Set(received).count) distinct received (\(received.count - Set(received).count) duplicates), missing \(missing.count) (all in after \(settled)), replaced before report \(replaced), connects \(connects); \(flapLines.count) log lines (\(failedLines) connection failures); \(sampler.summary), growth after 10 s \(Drill.mib(growth))")

        #expect(flaps >= 5)
        #expect(unread == 0, "\(unread) values the gateway did not read within 20 s")
        #expect(last >= 20, "the counter stepped only \(last) times")
        #expect(delivered && missing.isEmpty, "missing \(missing.prefix(50)) (\(replaced) replaced before reporting)\n\(daemon.text.suffix(4000))")
        #expect(emptied, "the outbox did not empty")
        #expect(connects >= 2, "\(connects) connects for \(flaps) outages")
        // In order: each value first arrives after every older one (a replay of a message that was
        // in flight may come again later: a QoS 1 duplicate).
        var seen = Set<Int>()
        let firsts = received.filter { seen.insert($0).inserted }
        #expect(firsts == firsts.sorted(), "\(firsts)")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty }, "\(site.platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
        // Bounded log: a few lines per outage (lost, failed, connected, syncing), never one per attempt.
        #expect(flapLines.count <= 12 * flaps + 10, "\(flapLines.count) lines for \(flaps) outages:\n\(flapLines.suffix(60).joined(separator: "\n"))")
        #expect(failedLines <= flaps + 1)
        // Bounded memory: after the warm-up, resident memory rises by less than 24 MiB.
        #expect(growth < 24 * 1_048_576, "\(sampler.summary)")
        // Recovered without a restart: the same process, still running, stops cleanly.
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.text.suffix(3000))")
    }
}
