import Foundation
import Testing
import TestSupport

/// Serial devices end to end: the edgegw binary, a simulated level sensor (scripts/serial_sim.py,
/// which shares no code with edgegw) on a socat pty pair, and the scripted platform on a real
/// mosquitto. Values are checked exactly as the platform receives them.
@Suite(.serialized) struct SerialDaemonTests {
    static let deviceId = "level-sensor_tank-01"

    /// The sample device file with the pty as its port and a fast poll (or none).
    static func deviceFile(port: String, poll: Bool, echo: Bool = false) throws -> String {
        var text = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/devices/tank-level.toml", encoding: .utf8)
            .replacingOccurrences(of: "device = \"/dev/ttyUSB1\"", with: "device = \"\(port)\"")
            .replacingOccurrences(of: "interval_ms = 5000", with: "interval_ms = 300")
        if echo { text = text.replacingOccurrences(of: "# echo = true", with: "echo = true") }
        if !poll, let range = text.range(of: "\n[poll]\n") { text = String(text[..<range.lowerBound]) + "\n" }
        if !poll { text = text.replacingOccurrences(of: "# offline_after_silence_s = 600", with: "offline_after_silence_s = 2") }
        return text
    }

    func setUp(_ site: CloudSite, pty: SocatPty, poll: Bool, echo: Bool = false) throws {
        let product = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/level-sensor.toml", encoding: .utf8)
        site.fixture.directory.write("products/level-sensor.toml", product)
        site.fixture.directory.write("devices/tank-level.toml", try Self.deviceFile(port: pty.gatewayPath, poll: poll, echo: echo))
    }

    /// Every property set of the sensor the platform received, in order.
    static func readings(_ site: CloudSite) -> [[String: Any]] {
        site.platform.records.flatMap { record -> [[String: Any]] in
            guard record.topic.hasSuffix("/sys/gateway/sub_devices/properties/report"),
                  let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any] else { return [] }
            return (json["devices"] as? [[String: Any]] ?? []).filter { $0["device_id"] as? String == deviceId }
                .flatMap { $0["services"] as? [[String: Any]] ?? [] }
                .compactMap { $0["properties"] as? [String: Any] }
        }
    }

    static func statuses(_ site: CloudSite) -> [String] {
        site.events("sub_device_update_status").flatMap { service -> [String] in
            ((service["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]] ?? []).filter { $0["device_id"] as? String == deviceId }
                .compactMap { $0["status"] as? String }
        }
    }

    @Test func polledReadingsThroughAnEchoACommandAndAnUnpluggedPortThatComesBack() async throws {
        let site = try await CloudSite()
        let pty = try await SocatPty()
        // A 2-wire adapter that hears itself: every request comes back before the answer. Taken
        // for the device, the echoed READ (AA 55 01 01 81 …) would reach the cloud as rawData.
        let sensor = try await SerialSimulator.start(on: pty, ["--mode", "polled", "--level", "2.5", "--temperature", "21.5", "--alarm", "1",
                                                              "--echo"])
        defer { sensor.stop(); pty.stop() }
        try setUp(site, pty: pty, poll: true, echo: true)
        let daemon = try site.startDaemon()
        defer { daemon.stop() }

        #expect(await Eventually.wait(timeout: .seconds(20)) { Self.readings(site).count >= 3 }, "\(daemon.text.suffix(3000))")
        #expect(!site.platform.records.contains { $0.payload.contains("rawData") })
        for reading in Self.readings(site) {
            #expect(reading["level"] as? Double == 2.5)
            #expect(reading["temperature"] as? Double == 21.5)
            #expect(reading["alarm"] as? Bool == true)
        }
        #expect(Self.statuses(site).first == "ONLINE")

        // A command: encoded by the codec, framed, written; the response matched by its mid.
        site.platform.send(#"{"command": {"device_id": "\#(site.deviceId)", "object_device_id": "\#(Self.deviceId)", "request_id": "thr-1", "service_id": "Tank", "command_name": "SET_THRESHOLD", "paras": {"threshold": 3.5}}}"#)
        func response(_ id: String) -> String? {
            site.platform.records.first { $0.topic.hasSuffix("/sys/commands/response/request_id=\(id)") }?.payload
        }
        #expect(await Eventually.wait(timeout: .seconds(20)) { response("thr-1") != nil }, "\(daemon.text.suffix(2000))")
        let answer = response("thr-1") ?? ""
        #expect(answer.contains(#""result_code":0"#), "\(answer)")
        #expect(answer.contains(#""threshold":3.5"#), "\(answer)")
        // The device refuses a threshold above its maximum: the platform hears a failure.
        site.platform.send(#"{"command": {"device_id": "\#(site.deviceId)", "object_device_id": "\#(Self.deviceId)", "request_id": "thr-2", "service_id": "Tank", "command_name": "SET_THRESHOLD", "paras": {"threshold": 200}}}"#)
        #expect(await Eventually.wait(timeout: .seconds(20)) { response("thr-2") != nil })
        #expect(response("thr-2")?.contains(#""result_code":0"#) == false, "\(response("thr-2") ?? "")")

        // A property get polls the sensor now and answers with what it reports.
        site.platform.send(#"{"publish":{"topic":"$oc/devices/\#(site.deviceId)/sys/properties/get/request_id=get-1","payload":{"object_device_id":"\#(Self.deviceId)","service_id":"Tank"}}}"#)
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            site.platform.records.contains { $0.topic.hasSuffix("/sys/properties/get/response/request_id=get-1") }
        })
        let got = site.platform.records.first { $0.topic.hasSuffix("/sys/properties/get/response/request_id=get-1") }?.payload ?? ""
        #expect(got.contains(#""level":2.5"#) && got.contains(#""service_id":"Tank""#), "\(got)")

        // Unplugged (the pty pair goes away): OFFLINE. Plugged back: the port reopens, ONLINE, readings again.
        pty.stop()
        #expect(await Eventually.wait(timeout: .seconds(15)) { Self.statuses(site).last == "OFFLINE" },
                "\(Self.statuses(site)) \(daemon.text.suffix(2000))")
        #expect(await daemon.waitForOutput("its devices are OFFLINE until it returns"))
        let before = Self.readings(site).count
        try await pty.restart()
        #expect(await sensor.waitForReopen())
        #expect(await Eventually.wait(timeout: .seconds(20)) { Self.statuses(site).last == "ONLINE" && Self.readings(site).count > before },
                "\(Self.statuses(site)) \(daemon.text.suffix(2000))")
        #expect(daemon.text.contains("is back"))
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty }, "\(site.platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }

    @Test func unsolicitedReportsThroughNoiseAndCorruptionCarryOnlyExactValues() async throws {
        let site = try await CloudSite(extraConfig: "\n[admin]\nsocket = \"run/admin.sock\"\n")
        try FileManager.default.createDirectory(atPath: site.fixture.directory.file("run"), withIntermediateDirectories: true)
        let pty = try await SocatPty()
        try setUp(site, pty: pty, poll: false)
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        // The gateway drops what a port held before it opened it: the sensor starts after.
        #expect(await daemon.waitForOutput("serial port \(pty.gatewayPath) open", timeout: .seconds(20)), "\(daemon.text)")
        // Every reading steps the level by 0.01 m: each value the platform gets must be one the sensor sent.
        let sensor = try await SerialSimulator.start(on: pty, ["--mode", "unsolicited", "--interval", "0.05", "--level", "1.0", "--vary",
                                                              "--temperature", "-4.5", "--noise", "0.3", "--corrupt", "0.2", "--seed", "7"])
        defer { sensor.stop(); pty.stop() }

        #expect(await Eventually.wait(timeout: .seconds(30)) { Self.readings(site).count >= 40 }, "\(daemon.text.suffix(3000))")
        let summary = await sensor.stopAndWait()
        let sent = summary?.sent ?? 0
        let corrupted = summary?.corrupted ?? 0
        try await Task.sleep(for: .seconds(1))
        let levels = Self.readings(site).compactMap { $0["level"] as? Double }
        // Values the sensor sent: 1.00, 1.01, … (wire steps of 0.01 m, never a corrupted one).
        let valid = Set((0..<max(sent, 1)).map { (100 + $0) % 65536 })
        let bad = levels.filter { !valid.contains(Int(($0 * 100).rounded())) }
        #expect(bad.isEmpty, "values the sensor never sent: \(bad)")
        #expect(Self.readings(site).allSatisfy { $0["temperature"] as? Double == -4.5 })
        #expect(corrupted > 0)
        // Reports are batched and merged per child, so fewer arrive than frames; none may repeat out of order.
        #expect(levels == levels.sorted(), "\(levels)")
        print("figure: \(sent) frames sent (\(corrupted) corrupted, noise between frames), \(levels.count) readings reported, 0 wrong")
        // The port's counters, as `edgegw status` shows them: every good frame, every corrupted one refused.
        let status = try ChildProcess(Paths.edgegwBinary, ["status", "--json", "--config", site.fixture.configPath])
        #expect(await status.waitForExit(timeout: .seconds(30)) == 0, "\(status.text)")
        let json = try JSONSerialization.jsonObject(with: Data(status.text.utf8)) as? [String: Any]
        let port = (json?["serialPorts"] as? [[String: Any]])?.first
        #expect(port?["frames"] as? Int == sent - corrupted, "\(status.text)")
        #expect(port?["checksumFailures"] as? Int == corrupted, "\(status.text)")
        #expect((port?["resyncs"] as? Int ?? 0) > 0, "\(status.text)")
        let devices = try ChildProcess(Paths.edgegwBinary, ["devices", "--config", site.fixture.configPath])
        #expect(await devices.waitForExit(timeout: .seconds(30)) == 0)
        #expect(devices.text.contains("serial:\(pty.gatewayPath) address 1"), "\(devices.text)")
        // Silent for longer than offline_after_silence_s: OFFLINE.
        #expect(await Eventually.wait(timeout: .seconds(20)) { Self.statuses(site).last == "OFFLINE" }, "\(Self.statuses(site))")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        #expect(daemon.text.contains("checksum_failures"), "\(daemon.text.suffix(2000))")
    }

    @Test func aBabblingDeviceIsCountedNotReportedAndTheLogStaysShort() async throws {
        let site = try await CloudSite()
        let pty = try await SocatPty()
        let sensor = try await SerialSimulator.start(on: pty, ["--babble", "--seed", "3"])
        defer { sensor.stop(); pty.stop() }
        try setUp(site, pty: pty, poll: true)
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await daemon.waitForOutput("serial port", timeout: .seconds(15)))
        try await Task.sleep(for: .seconds(5))
        #expect(Self.readings(site).isEmpty)
        let rejected = daemon.text.components(separatedBy: "\n").filter { $0.contains("frame rejected") || $0.contains("cannot decode") }
        // At most 5 such lines a minute, the rest counted.
        #expect(rejected.count <= 6, "\(rejected.count) lines")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        print("figure: a babbling device for 5 s: \(rejected.count) log lines about its frames")
    }

    static let busMeter = """
        [product]
        id = "bus-meter"
        manufacturer = "Acme"
        model = "BM-1"
        device_type = "Meter"
        protocol = "Modbus"

        [[services]]
        id = "Meter"

          [[services.properties]]
          name = "reading"
          type = "int"
        """

    /// One RS-485 port, two masters' worth of devices: a Modbus RTU meter (libmodbus) and the
    /// framed sensor, both polled fast. Each transaction takes the port's turn; without it one
    /// master would read the other's answer (CRC errors, timeouts, wrong values).
    @Test func aPortSharedWithModbusTakesTurnsAndNeitherSideSeesTheOthersAnswers() async throws {
        let site = try await CloudSite()
        let pty = try await SocatPty()
        let line = try await SerialSimulator.start(on: pty, ["--mode", "polled", "--level", "7.25", "--modbus-unit", "5"])
        defer { line.stop(); pty.stop() }
        try setUp(site, pty: pty, poll: true)
        site.fixture.directory.write("products/bus-meter.toml", Self.busMeter)
        site.fixture.directory.write("devices/bus-meter.toml", """
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
        func meterReadings() -> [Int] {
            site.platform.records.flatMap { record -> [Int] in
                guard record.topic.hasSuffix("/sys/gateway/sub_devices/properties/report"),
                      let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any] else { return [] }
                return (json["devices"] as? [[String: Any]] ?? []).filter { $0["device_id"] as? String == "bus-meter_meter-5" }
                    .flatMap { $0["services"] as? [[String: Any]] ?? [] }
                    .compactMap { ($0["properties"] as? [String: Any])?["reading"] as? Int }
            }
        }
        #expect(await Eventually.wait(timeout: .seconds(20)) { Self.readings(site).count >= 10 && !meterReadings().isEmpty },
                "\(daemon.text.suffix(3000))")
        try await Task.sleep(for: .seconds(4))
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        let summary = await line.stopAndWait()
        #expect(meterReadings().allSatisfy { $0 == 1007 }, "\(meterReadings())")
        #expect(Self.readings(site).allSatisfy { $0["level"] as? Double == 7.25 })
        // Neither side timed out or saw a broken frame, and neither went OFFLINE.
        #expect(daemon.text.contains("timeouts=0"), "\(daemon.text.suffix(3000))")
        #expect(daemon.text.contains("checksum_failures=0"))
        #expect(!Self.statuses(site).contains("OFFLINE"),
                "\(daemon.text.split(separator: "\n").filter { $0.contains("serial") || $0.contains("modbus") || $0.contains("OFFLINE") }.joined(separator: "\n"))")
        #expect(!site.events("sub_device_update_status").description.contains(#""bus-meter_meter-5", "status": "OFFLINE""#))
        let modbusAnswers = summary?.modbusAnswered ?? 0
        print("figure: one port, two kinds of device: \(modbusAnswers) Modbus answers and \(summary?.answered ?? 0) sensor answers, 0 timeouts")
        #expect(modbusAnswers >= 20)
    }
}
