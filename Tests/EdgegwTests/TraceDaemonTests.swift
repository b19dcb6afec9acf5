import Foundation
import Testing
import TestSupport

/// `edgegw trace` against the running daemon: a Modbus bus's ADUs byte for byte as pymodbus
/// received and sent them, an NB-IoT module's notification, no key in a trace, and a trace
/// client that reads nothing beside one that reads.
@Suite(.serialized) struct TraceDaemonTests {
    static let imei = "861234567890777"

    var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    static let adminTable = "\n[admin]\nsocket = \"run/admin.sock\"\n"

    /// The JSON records a `--json` trace printed so far.
    func records(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return nil }
            return object["record"] as? [String: Any]
        }
    }

    func field(_ record: [String: Any], _ name: String) -> String? {
        (record["fields"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["value"] as? String
    }

    @Test func aModbusTraceShowsTheADUsPymodbusSawByteForByte() async throws {
        let modbusPort = FreePort.next()
        let peer = try ModbusPeer(tcpPort: modbusPort, units: [1])
        defer { peer.stop() }
        #expect(await peer.ready())
        // 228.5 as float32 in input registers 0-1.
        #expect(await peer.set(unit: 1, table: "input", address: 0, [0x4364, 0x8000]))
        let fixture = ConfigFixture(cloudPort: Int(FreePort.next()), extra: Self.adminTable)
        fixture.directory.write("devices/meter-1.toml", ConfigFixture.device(port: Int(modbusPort)))
        try FileManager.default.createDirectory(atPath: fixture.directory.file("run"), withIntermediateDirectories: true)
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
        defer { daemon.stop() }
        #expect(await daemon.waitForOutput("admin socket listening", timeout: .seconds(20)), "\(daemon.text)")
        let bus = "tcp:127.0.0.1:\(modbusPort)"

        let trace = try ChildProcess(Paths.edgegwBinary, ["trace", "modbus", bus, "--config", fixture.configPath, "--json"])
        defer { trace.stop() }
        // The input registers' read (fc 4, address 0, 2 registers): MBAP transaction 0, length 6, unit 1.
        let request = "000000000006010400000002"
        let response = "00000000000701040443648000"
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            records(trace.text).contains { $0["direction"] as? String == "response" && $0["hex"] as? String == response }
        }, "\(trace.text.suffix(3000))\n\(daemon.text.suffix(2000))")
        let traced = records(trace.text)
        let sent = try #require(traced.first { $0["direction"] as? String == "request" && $0["hex"] as? String == request },
                                "\(trace.text)")
        #expect(sent["target"] as? String == bus)
        #expect(field(sent, "function") == "4" && field(sent, "address") == "0" && field(sent, "count") == "2")
        let answered = try #require(traced.first { $0["hex"] as? String == response })
        #expect(answered["status"] as? String == "ok")
        #expect((answered["roundTripMilliseconds"] as? Double).map { $0 > 0 && $0 < 1000 } == true, "\(answered)")
        #expect(field(answered, "values") == "17252 32768")
        // What pymodbus received and sent, byte for byte.
        let packets = try #require(await peer.packets())
        #expect(packets.contains { $0.direction == "recv" && $0.hex == request }, "\(packets)")
        #expect(packets.contains { $0.direction == "send" && $0.hex == response }, "\(packets)")
        // Every traced frame of the bus is one pymodbus saw.
        let seen = Set(packets.map(\.hex))
        for record in traced.prefix(6) {
            if let hex = record["hex"] as? String, !hex.isEmpty { #expect(seen.contains(hex), "\(record) not in \(packets)") }
        }

        // An exception: the trace names it, with the bytes pymodbus sent.
        #expect(await peer.exception(unit: 1, address: 0, code: 2))
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            records(trace.text).contains { $0["status"] as? String == "exception 2 (illegal data address)" && $0["hex"] as? String == "000000000003018402" }
        }, "\(trace.text.suffix(2000))")
        #expect(await peer.packets()?.contains { $0.direction == "send" && $0.hex == "000000000003018402" } == true)

        // Human-readable lines, and Ctrl-C ends the trace cleanly.
        let human = try ChildProcess(Paths.edgegwBinary, ["trace", "modbus", bus, "--config", fixture.configPath])
        #expect(await human.waitForOutput("exception 2 (illegal data address)", timeout: .seconds(20)), "\(human.text)")
        #expect(human.text.contains("tracing modbus \(bus); Ctrl-C to stop"))
        #expect(human.text.contains("00 00 00 00 00 03 01 84 02") || human.text.contains("00 00 00 00 00 03 01 81 02"), "\(human.text)")
        print("edgegw trace modbus, human-readable:\n\(human.text.prefix(1200))")
        human.signal(SIGINT)
        #expect(await human.waitForExit(timeout: .seconds(5)) == 0, "\(human.text)")
        #expect(human.text.contains("trace ended:"))
        #expect(!trace.text.contains("s3cret-for-tests") && !human.text.contains("s3cret-for-tests"))

        // A bus that does not exist is refused with the buses there are.
        let wrong = try ChildProcess(Paths.edgegwBinary, ["trace", "modbus", "tcp:10.0.0.1:502", "--config", fixture.configPath])
        #expect(await wrong.waitForExit(timeout: .seconds(10)) == 1)
        #expect(wrong.text.contains("no bus tcp:10.0.0.1:502; the buses are \(bus)"), "\(wrong.text)")
    }

    @Test func anNBIoTTraceShowsTheModuleNotificationAndNoKey() async throws {
        let site = try await CloudSite(extraConfig: Self.adminTable)
        try FileManager.default.createDirectory(atPath: site.fixture.directory.file("run"), withIntermediateDirectories: true)
        let psk = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(15).lowercased()
        site.fixture.directory.write("secrets/nbiot-psk", "\(Self.imei) = \(psk)\n", mode: 0o600)
        let coaps = try site.enableLwM2M(lwm2m: "psk_secrets_file = \"secrets/nbiot-psk\"", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(Self.imei),meter-777,water-meter,0,,,,DTLS,86400,

            """)
        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await daemon.waitForOutput("admin socket listening", timeout: .seconds(20)), "\(daemon.text)")
        let trace = try ChildProcess(Paths.edgegwBinary, ["trace", "nbiot", Self.imei, "--config", site.fixture.configPath, "--json"])
        defer { trace.stop() }
        #expect(await trace.waitForOutput("\"trace\":{"), "\(trace.text)")
        let payload = "0104d20001e24000eb3f800000"
        let module = try ChildProcess(simulator, ["device", "--port", String(coaps), "--imei", Self.imei, "--psk", psk,
                                                  "--every", "1", "--payload", payload.uppercased()])
        defer { module.stop() }
        #expect(await Eventually.wait(timeout: .seconds(30)) {
            records(trace.text).contains { $0["direction"] as? String == "in" && field($0, "payload") == payload }
        }, "\(trace.text.suffix(3000))\n\(daemon.text.suffix(2000))")
        let traced = records(trace.text)
        // The Register and its 2.01, the Observe GET, then the notifications on its token.
        let register = try #require(traced.first { $0["direction"] as? String == "in" && field($0, "code") == "POST" }, "\(traced)")
        #expect(field(register, "options")?.contains("Uri-Path=rd") == true && field(register, "options")?.contains("ep=\(Self.imei)") == true)
        #expect(traced.contains { $0["direction"] as? String == "out" && field($0, "code") == "2.01" })
        let observe = try #require(traced.first { $0["direction"] as? String == "out" && field($0, "code") == "GET" }, "\(traced)")
        #expect(field(observe, "options")?.contains("Observe=0") == true)
        let notification = try #require(traced.first { $0["direction"] as? String == "in" && field($0, "payload") == payload })
        #expect(field(notification, "code") == "2.05")
        #expect(field(notification, "token") == field(observe, "token") && field(observe, "token")?.isEmpty == false)
        #expect(field(notification, "mid").flatMap { Int($0) } != nil)
        #expect(field(notification, "options")?.contains("Observe=") == true)
        let hex = try #require(notification["hex"] as? String)
        #expect(hex.hasSuffix("ff" + payload), "the message's bytes end with the payload marker and the payload: \(hex)")
        #expect(notification["target"] as? String == Self.imei)
        let human = try ChildProcess(Paths.edgegwBinary, ["trace", "nbiot", Self.imei, "--config", site.fixture.configPath])
        #expect(await human.waitForOutput("payload=\(payload)", timeout: .seconds(10)), "\(human.text)")
        print("edgegw trace nbiot, human-readable:\n\(human.text.prefix(1500))")
        human.signal(SIGINT)
        #expect(await human.waitForExit(timeout: .seconds(5)) == 0, "\(human.text)")
        // No key, no secret in the trace.
        #expect(!trace.text.contains(psk) && !trace.text.contains(Data(psk.utf8).map { String(format: "%02x", $0) }.joined()))
        #expect(!trace.text.contains(site.secret) && !human.text.contains(psk))
        // A device not in the list is refused.
        let wrong = try ChildProcess(Paths.edgegwBinary, ["trace", "nbiot", "000000000000000", "--config", site.fixture.configPath])
        #expect(await wrong.waitForExit(timeout: .seconds(10)) == 1)
        #expect(wrong.text.contains("no NB-IoT device 000000000000000 in the device list"), "\(wrong.text)")
    }
}
