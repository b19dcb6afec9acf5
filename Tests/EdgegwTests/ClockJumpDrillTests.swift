import Foundation
import Testing
import TestSupport
@testable import IoTDA

/// Fault drill: the box's wall clock jumps 2 h forward, then 4 h back (NTP after a long outage,
/// an RTC battery, a technician), while the daemon runs. The machine's clock is not touched: the
/// daemon runs with scripts/wallclock-shift.c preloaded, which moves its wall clock only (the
/// monotonic clocks run on, as after a real step of the system clock).
///
/// It proves: the MQTT password is made from the UTC hour of the moment of each connect (the
/// broker accepts only the jumped hour's password, and a refusal would hold the next attempt for
/// 5 minutes); reports carry the new wall time; polling keeps its pace through both jumps (the
/// timers run on the monotonic clock: no burst to catch up 2 h, no stall for 4 h); a property
/// set is answered inside its window after each jump; memory and log stay bounded.
@Suite(.serialized, .timeLimit(.minutes(4))) struct ClockJumpDrillTests {
    @Test func wallClockJumpsForwardAndBackChangeThePasswordHourButNoTimer() async throws {
        try #require(Paths.hasProgram("cc"), "no C compiler (cc) to build scripts/wallclock-shift.c")
        // Every hour below is the real one plus an offset: the test must not cross a real hour.
        let (site, metricsPort) = try await Drill.site(persistentBroker: true, hourMargin: 100)
        _ = metricsPort
        let meter = try await CounterMeter(site: site, intervalMs: 500)
        defer { meter.peer.stop() }
        let shim = site.fixture.directory.file("wallclock-shift.so")
        let compiler = try ChildProcess("cc", ["-shared", "-fPIC", "-O2", "-o", shim, Paths.packageRoot + "/scripts/wallclock-shift.c", "-ldl"])
        #expect(await compiler.waitForExit(timeout: .seconds(60)) == 0, "\(compiler.text)")
        let shiftFile = site.fixture.directory.write("wallclock-shift", "0\n")
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", site.fixture.configPath],
                                       environment: ["LD_PRELOAD": shim, "WALLCLOCK_SHIFT_FILE": shiftFile])
        defer { daemon.stop() }
        let pid = daemon.pid
        #expect(await Eventually.wait(timeout: .seconds(30)) { CounterMeter.received(site).contains(1) }, "\(daemon.text.suffix(3000))")
        let sampler = ResourceSampler(pid: pid)
        defer { sampler.stop() }
        let linesBefore = Drill.lines(daemon.text).count
        await meter.peer.resetRequests()
        let paceFrom = Date()

        var connectsSeen = daemon.text.components(separatedBy: "cloud connected (connection").count - 1
        for (step, hours) in [2, -2].enumerated() {
            let offset = TimeInterval(hours * 3600)
            site.fixture.directory.write("wallclock-shift", "\(hours * 3600)\n")
            try await Task.sleep(for: .milliseconds(500))
            // The daemon's wall time moved: a new reading is stamped with it.
            let value = try await next(meter, site, daemon)
            let stamped = try #require(Self.eventTime(of: value, site), "no event_time for \(value)")
            #expect(abs(stamped.timeIntervalSince(Date().addingTimeInterval(offset))) < 120, "stamped \(stamped), offset \(hours) h")

            // The broker now takes only the password of the jumped hour; the link drops and the
            // daemon reconnects with that hour at once.
            let hour = ConnectTimestamp(Date().addingTimeInterval(offset)).text
            try await site.broker.replacePasswords([.init(name: site.deviceId, password: HMACSHA256.hex(key: hour, message: site.secret)),
                                                    .platform(password: CloudSite.platformPassword)])
            await site.broker.stopGracefully()
            try await site.broker.start()
            #expect(await Eventually.wait(timeout: .seconds(20)) {
                daemon.text.components(separatedBy: "cloud connected (connection").count - 1 > connectsSeen
            }, "step \(step): no reconnect with hour \(hour)\n\(site.broker.log)\n\(daemon.text.suffix(3000))")
            connectsSeen = daemon.text.components(separatedBy: "cloud connected (connection").count - 1
            // The broker logs each client id it accepts: the gateway's carries the jumped hour.
            #expect(await Eventually.wait(timeout: .seconds(5)) { site.broker.log.contains(" as \(site.deviceId)_0_0_\(hour) ") },
                    "step \(step): \(site.broker.log)")
            _ = try await next(meter, site, daemon)

            // A property set inside its window.
            let id = "relay-\(step)"
            site.platform.send(#"{"publish":{"topic":"$oc/devices/\#(site.deviceId)/sys/properties/set/request_id=\#(id)","payload":{"object_device_id":"\#(CounterMeter.deviceId)","services":[{"service_id":"Meter","properties":{"relay":\#(step == 0)}}]}}}"#)
            #expect(await Eventually.wait(timeout: .seconds(20)) {
                site.platform.records.contains { $0.topic.hasSuffix("properties/set/response/request_id=\(id)") && $0.payload.contains(#""result_code":0"#) }
            }, "step \(step): \(site.platform.records.filter { $0.topic.contains(id) }.map(\.payload))\n\(daemon.text.suffix(2000))")
            // Some polls at the jumped time, for the pace check below.
            try await Task.sleep(for: .seconds(5))
        }
        let paceSeconds = Date().timeIntervalSince(paceFrom)
        sampler.stop()

        // Polls at 500 ms throughout, by the slave's (real) clock.
        let reads = (await meter.peer.requests() ?? []).filter { $0.function == 3 }.map(\.time).sorted()
        let gaps = zip(reads, reads.dropFirst()).map { $1 - $0 }
        let expected = paceSeconds / 0.5
        let lines = Drill.lines(daemon.text).dropFirst(linesBefore)
        let growth = sampler.growth(after: .seconds(2)) ?? 0
        print("figure: wall clock +2 h then -4 h: reconnected with each jumped hour; \(reads.count) polls in \(String(format: "%.1f", paceSeconds)) s (\(Int(expected)) due), longest gap \(String(format: "%.2f", gaps.max() ?? 0)) s; \(lines.count) log lines; \(sampler.summary), growth \(Drill.mib(growth))")
        #expect(Double(reads.count) > expected * 0.6 && Double(reads.count) < expected * 1.5, "\(reads.count) polls, \(expected) due")
        #expect((gaps.max() ?? 0) < 5, "a poll gap of \(gaps.max() ?? 0) s")
        #expect(!daemon.text.contains("refused"), "\(daemon.text.suffix(3000))")
        #expect(lines.count <= 40, "\(lines.count) lines:\n\(lines.joined(separator: "\n"))")
        #expect(growth < 24 * 1_048_576, "\(sampler.summary)")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty })
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.text.suffix(3000))")
    }

    /// Steps the counter and waits until the platform has the new value; returns it.
    func next(_ meter: CounterMeter, _ site: CloudSite, _ daemon: ChildProcess) async throws -> Int {
        #expect(await meter.step(), "the meter was not polled: \(daemon.text.suffix(2000))")
        let value = meter.value
        #expect(await Eventually.wait(timeout: .seconds(20)) { CounterMeter.received(site).contains(value) },
                "value \(value) never arrived: \(daemon.text.suffix(2000))")
        return value
    }

    /// The `event_time` of the report that carried `value`.
    static func eventTime(of value: Int, _ site: CloudSite) -> Date? {
        for record in site.platform.records where record.topic.hasSuffix("/sys/gateway/sub_devices/properties/report") {
            guard let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any] else { continue }
            for device in json["devices"] as? [[String: Any]] ?? [] where device["device_id"] as? String == CounterMeter.deviceId {
                for service in device["services"] as? [[String: Any]] ?? []
                where (service["properties"] as? [String: Any])?["counter"] as? Int == value {
                    // `yyyyMMdd'T'HHmmss'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`: the first 14 digits.
                    guard let text = service["event_time"] as? String else { return nil }
                    let formatter = DateFormatter()
                    formatter.locale = Locale(identifier: "en_US_POSIX")
                    formatter.timeZone = TimeZone(identifier: "UTC")
                    formatter.dateFormat = "yyyyMMddHHmmss"
                    return formatter.date(from: String(text.filter(\.isNumber).prefix(14)))
                }
            }
        }
        return nil
    }
}
