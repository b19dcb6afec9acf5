import Foundation
import Testing
import TestSupport

/// `GET /metrics` of the running daemon against the test peers: names, types, values that must
/// move, no secret in a scrape, and `enabled = false`.
@Suite(.serialized) struct MetricsDaemonTests {
    static let imei = "861234567890888"

    var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    func scrape(_ port: UInt16) -> ScrapeText? {
        guard let response = TCPClient.get(port: Int(port)), response.hasPrefix("HTTP/1.1 200 OK") else { return nil }
        return ScrapeText(response)
    }

    @Test func modbusPollsCloudLinkAndNoSecretInAScrape() async throws {
        let metricsPort = FreePort.next()
        let site = try await CloudSite(extraConfig: "\n[metrics]\nlisten = \"127.0.0.1:\(metricsPort)\"\n")
        let modbusPort = FreePort.next()
        let peer = try ModbusPeer(tcpPort: modbusPort, units: [1])
        #expect(await peer.ready())
        site.fixture.directory.write("devices/meter-1.toml", ConfigFixture.device(port: Int(modbusPort)))
        let daemon = try site.startDaemon()
        #expect(await Eventually.wait(timeout: .seconds(15)) { scrape(metricsPort)?.value("edgegw_cloud_connected") == 1 },
                "\(daemon.text)")
        let bus = "tcp://127.0.0.1:\(modbusPort)"
        var first: Double = 0
        #expect(await Eventually.wait(timeout: .seconds(15)) {
            first = scrape(metricsPort)?.value("edgegw_modbus_requests_total") ?? 0
            return first > 0
        }, "\(daemon.text)")
        // The next polls move the bus's counter; the answers land in its histogram.
        #expect(await Eventually.wait(timeout: .seconds(15)) { (scrape(metricsPort)?.value("edgegw_modbus_requests_total") ?? 0) > first })
        let text = try #require(scrape(metricsPort))
        #expect(text.type("edgegw_modbus_requests_total") == "counter")
        #expect(text.type("edgegw_modbus_response_seconds") == "histogram")
        #expect((text.value("edgegw_modbus_response_seconds_count") ?? 0) > 0)
        #expect(text.value("edgegw_modbus_device_online", ["node_id": "meter-1"]) == 1, "\(text.text)")
        #expect(text.text.contains("edgegw_modbus_requests_total{bus=") && text.text.contains(bus) || text.text.contains("bus=\""))
        #expect(text.type("edgegw_build_info") == "gauge")
        #expect(text.value("edgegw_build_info") == 1)
        #expect(text.type("edgegw_cloud_connects_total") == "counter")
        #expect(text.value("edgegw_cloud_connects_total") == 1)
        #expect(text.type("edgegw_outbox_rows") == "gauge")
        #expect((text.value("edgegw_cloud_publishes_total") ?? 0) > 0)
        #expect(await Eventually.wait(timeout: .seconds(20)) { (scrape(metricsPort)?.value("edgegw_cloud_pubacks_total") ?? 0) > 0 })
        #expect(scrape(metricsPort)?.type("edgegw_cloud_publish_ack_seconds") == "histogram")
        #expect(text.value("edgegw_children", ["kind": "modbus", "status": "ONLINE"]) != nil)
        #expect(!text.text.contains(site.secret), "the device secret is in a scrape")

        // The broker goes away: the link state says so.
        await site.broker.kill()
        #expect(await Eventually.wait(timeout: .seconds(15)) { scrape(metricsPort)?.value("edgegw_cloud_connected") == 0 },
                "\(daemon.text.suffix(3000))")
        // A broker that is gone is a lost connection, not a normal close.
        #expect(await Eventually.wait(timeout: .seconds(15)) {
            scrape(metricsPort)?.value("edgegw_cloud_disconnects_total", ["reason": "connection_lost"]) == 1
        }, "\(scrape(metricsPort)?.text ?? "")")
        #expect(scrape(metricsPort)?.value("edgegw_cloud_disconnects_total", ["reason": "normal"]) == 0)
        #expect(scrape(metricsPort)?.type("edgegw_cloud_disconnects_total") == "counter")
        #expect(!(scrape(metricsPort)?.text.contains(site.secret) ?? true))
        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit(timeout: .seconds(15))
    }

    @Test func aWrongKeyCountsAFailedHandshakeAndNoPSKInAScrape() async throws {
        let metricsPort = FreePort.next()
        let site = try await CloudSite(extraConfig: "\n[metrics]\nlisten = \"127.0.0.1:\(metricsPort)\"\n")
        let psk = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(15).lowercased()
        site.fixture.directory.write("secrets/nbiot-psk", "\(Self.imei) = \(psk)\n", mode: 0o600)
        let coaps = try site.enableLwM2M(lwm2m: "psk_secrets_file = \"secrets/nbiot-psk\"", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(Self.imei),meter-888,water-meter,0,,,,DTLS,86400,

            """)
        let daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("lwm2m listening"), "\(daemon.text)")
        #expect(await Eventually.wait(timeout: .seconds(20)) { scrape(metricsPort)?.value("edgegw_nbiot_sessions_open") != nil })
        let before = scrape(metricsPort)?.value("edgegw_nbiot_handshakes_total", ["outcome": "failed"]) ?? 0
        let wrong = "w" + String(psk.dropFirst())
        let module = try ChildProcess(simulator, ["device", "--port", String(coaps), "--imei", Self.imei, "--psk", wrong,
                                                  "--every", "1", "--payload", "0104D20001E24000EB3F800000"])
        #expect(await Eventually.wait(timeout: .seconds(30)) {
            (scrape(metricsPort)?.value("edgegw_nbiot_handshakes_total", ["outcome": "failed"]) ?? 0) > before
        }, "\(daemon.text.suffix(3000))\n\(module.text.suffix(2000))")
        module.signal(SIGKILL)
        // The right key registers, and Register→Observe lands in its histogram.
        let good = try ChildProcess(simulator, ["device", "--port", String(coaps), "--imei", Self.imei, "--psk", psk,
                                                "--every", "1", "--payload", "0104D20001E24000EB3F800000"])
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            (scrape(metricsPort)?.value("edgegw_nbiot_register_to_observe_seconds_count") ?? 0) > 0
        }, "\(daemon.text.suffix(3000))")
        let text = try #require(scrape(metricsPort))
        #expect((text.value("edgegw_nbiot_registrations_total", ["outcome": "accepted"]) ?? 0) > 0)
        #expect(text.type("edgegw_nbiot_register_to_observe_seconds") == "histogram")
        #expect(!text.text.contains(psk) && !text.text.contains(wrong) && !text.text.contains(site.secret), "a key is in a scrape")
        good.signal(SIGKILL)
        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit(timeout: .seconds(15))
    }

    @Test func disabledLeavesThePortClosed() async throws {
        let metricsPort = FreePort.next()
        let fixture = ConfigFixture(extra: "\n[metrics]\nenabled = false\nlisten = \"127.0.0.1:\(metricsPort)\"\n")
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
        #expect(await daemon.waitForOutput("state store open"), "\(daemon.text)")
        try await Task.sleep(for: .seconds(1))
        #expect(TCPClient(port: Int(metricsPort)) == nil, "something listens on the metrics port")
        #expect(!daemon.text.contains("metrics endpoint listening"))
        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit(timeout: .seconds(15))
    }
}
