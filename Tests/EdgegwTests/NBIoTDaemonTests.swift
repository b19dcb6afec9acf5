import Foundation
import Testing
import TestSupport

/// The daemon with a simulated NB-IoT module (DTLS-PSK, libcoap client) and the scripted cloud.
@Suite(.serialized) struct NBIoTDaemonTests {
    static let imei = "861234567890777"

    var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    @Test func aModuleReportsThroughTheGatewayAndTakesACachedCommand() async throws {
        let site = try await CloudSite()
        let coaps = FreePort.next(udp: true)
        let psk = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(15).lowercased()
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        site.fixture.directory.write("products/water-meter.toml", sample)
        site.fixture.directory.write("nbiot-devices.csv", """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(Self.imei),meter-777,water-meter,0,,,,DTLS,86400,

            """)
        site.fixture.directory.write("secrets/nbiot-psk", "\(Self.imei) = \(psk)\n", mode: 0o600)
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "[listeners.coaps]\nenabled = false",
                                  with: "[listeners.coaps]\nenabled = true\nport = \(coaps)\nbind = [\"127.0.0.1\"]")
            + "\n[lwm2m]\npsk_secrets_file = \"secrets/nbiot-psk\"\n\n[paths]\nnbiot_devices = \"nbiot-devices.csv\"\n"
        site.fixture.directory.write("edgegw.toml", config)

        let daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("lwm2m listening"), "\(daemon.text)")
        // flow 12.34 m3/h, total 123.456 m3, 23.5 Cel, 1.0 bar
        let module = try ChildProcess(simulator, ["device", "--port", String(coaps), "--imei", Self.imei, "--psk", psk,
                                                  "--every", "1", "--payload", "0104D20001E24000EB3F800000"])
        let deviceId = "water-meter_\(Self.imei)"
        func reported() -> Bool {
            site.platform.records.contains { $0.topic.hasSuffix("/sub_devices/properties/report") && $0.payload.contains(deviceId)
                && $0.payload.contains("\"flow\":12.34") }
        }
        #expect(await Eventually.wait(timeout: .seconds(20)) { reported() }, "\(daemon.text)\n\(module.text)")
        #expect(await Eventually.wait(timeout: .seconds(10)) {
            site.events("sub_device_update_status").contains { "\($0)".contains(deviceId) && "\($0)".contains("ONLINE") }
        })

        // A cached command goes on the module's next report; SET_LABEL declares no response,
        // so the ACK ends it (DELIVERED) and the cloud gets result_code 0 inside its window.
        site.platform.send(#"{"command": {"device_id": "\#(site.deviceId)", "object_device_id": "\#(deviceId)", "service_id": "DeviceInfo", "command_name": "SET_LABEL", "paras": {"label": "pump house 3"}}}"#)
        #expect(await Eventually.wait(timeout: .seconds(20)) {
            site.platform.records.contains { $0.topic.contains("/sys/commands/response/") && $0.payload.contains("\"result_code\":0")
                && $0.payload.contains("DELIVERED") }
        }, "\(daemon.text)")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty })
        module.signal(SIGKILL)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}
