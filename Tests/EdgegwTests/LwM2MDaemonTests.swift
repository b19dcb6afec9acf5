import Foundation
import Testing
import TestSupport

/// The daemon with a simulated NB-IoT module (DTLS-PSK, libcoap client) and the scripted cloud.
@Suite(.serialized) struct LwM2MDaemonTests {
    static let imei = "861234567890777"

    var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    @Test func aModuleReportsThroughTheGatewayAndTakesACachedCommand() async throws {
        let site = try await CloudSite()
        let psk = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(15).lowercased()
        site.fixture.directory.write("secrets/nbiot-psk", "\(Self.imei) = \(psk)\n", mode: 0o600)
        let coaps = try site.enableLwM2M(lwm2m: "psk_secrets_file = \"secrets/nbiot-psk\"", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(Self.imei),meter-777,water-meter,0,,,,DTLS,86400,

            """)

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
        #expect(await Eventually.wait(timeout: .seconds(20)) {
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
        let status = await daemon.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "exit \(status.map(String.init) ?? "none after 15 s"); running \(daemon.isRunning)\n\(daemon.text.suffix(4000))")
        // The LwM2M side stops (gracefully) before the cloud drains the outbox.
        let log = daemon.text
        if let stopped = log.range(of: "lwm2m stopped"), let drained = log.range(of: "cloud stopping") {
            #expect(stopped.lowerBound < drained.lowerBound, "\(log.suffix(4000))")
        } else {
            Issue.record("no \"lwm2m stopped\" or \"cloud stopping\" in the log: \(log.suffix(4000))")
        }
    }

    /// Three modules and the scripted cloud: a PCP-looking frame with a wrong CRC, a module without
    /// object 19, one that announces no data resource, and commands the codec refuses or that carry
    /// `send_strategy`.
    @Test func dataPathsAndCommandChecksAsTheCloudSeesThem() async throws {
        let site = try await CloudSite()
        let psk = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(15).lowercased()
        let (pcpDevice, tupDevice, silentDevice) = ("861234567890771", "861234567890772", "861234567890773")
        let coaps = try site.enableLwM2M(lwm2m: "awake_window = 1\ncoap_threads = 1", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret,pskIdentity,uplinkPath,downlinkPath,pcp
            \(pcpDevice),pcp,water-meter,0,,\(psk),,DTLS,86400,,,,,true
            \(tupDevice),tup,water-meter,0,,\(psk),,DTLS,86400,,,/19/0/0,/19/1/0,
            \(silentDevice),silent,water-meter,0,,\(psk),,DTLS,86400,,,,,

            """)
        let daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("lwm2m listening"), "\(daemon.text)")
        func module(_ imei: String, _ extra: [String]) throws -> ChildProcess {
            try ChildProcess(simulator, ["device", "--port", String(coaps), "--imei", imei, "--psk", psk] + extra)
        }
        let modules = [
            try module(pcpDevice, ["--every", "1", "--payload", "FFFE01160000000100"]),
            // A TUP module without object 19, though the device list says /19/0/0.
            try module(tupDevice, ["--every", "1", "--objects", "</1/0>,</3/0>,</t/d>", "--payload", "0104D20001E24000EB3F800000"]),
            try module(silentDevice, ["--every", "0", "--objects", "</1/0>,</3/0>,</5/0>"]),
        ]
        defer { modules.forEach { $0.signal(SIGKILL) } }
        func reported(_ imei: String, _ text: String) -> Bool {
            site.platform.records.contains { $0.topic.hasSuffix("/sub_devices/properties/report")
                && $0.payload.contains("water-meter_\(imei)") && $0.payload.contains(text) }
        }
        // Item: CRC 0000 is not PCP's 850E, so it is business data: RawData through the codec.
        #expect(await Eventually.wait(timeout: .seconds(20)) { reported(pcpDevice, "\"rawData\":\"//4BFgAAAAEA\"") },
                "\(daemon.text)")
        // Item: observed on the /t/d it announces, so its readings arrive.
        #expect(await Eventually.wait(timeout: .seconds(20)) { reported(tupDevice, "\"flow\":12.34") }, "\(daemon.text)")
        // Item: nothing announced, nothing observed, and the log says so.
        #expect(await daemon.waitForOutput("announces no data resource"), "\(daemon.text)")
        #expect(daemon.text.contains(silentDevice))
        #expect(!modules[2].text.contains("observed"), "\(modules[2].text)")

        func response(_ requestId: String) -> String? {
            site.platform.records.first { $0.topic.hasSuffix("/sys/commands/response/request_id=\(requestId)") }?.payload
        }
        func command(_ requestId: String, _ imei: String, _ name: String, _ paras: String, service: String) {
            site.platform.send(#"{"command": {"device_id": "\#(site.deviceId)", "object_device_id": "water-meter_\#(imei)", "request_id": "\#(requestId)", "service_id": "\#(service)", "command_name": "\#(name)", "paras": \#(paras)}}"#)
        }
        // Item: send_strategy is edgegw's, not a parameter of SET_LABEL.
        command("strategy-1", pcpDevice, "SET_LABEL", #"{"label": "pump house 3", "send_strategy": "delay"}"#, service: "DeviceInfo")
        // Item: below SET_INTERVAL's minimum of 60, for a module that sleeps: refused at once, not queued.
        try await Task.sleep(for: .seconds(1.5)) // past awake_window since the silent module registered
        let sent = ContinuousClock.now
        command("invalid-1", silentDevice, "SET_INTERVAL", #"{"interval": 30}"#, service: "WaterMeterBasic")
        #expect(await Eventually.wait(timeout: .seconds(20)) { response("invalid-1") != nil })
        print("invalid command for a sleeping module answered after \(sent.duration(to: .now)): \(response("invalid-1") ?? "")")
        #expect(response("invalid-1")?.contains("\"result_code\":3") == true, "\(response("invalid-1") ?? "")")
        #expect(await Eventually.wait(timeout: .seconds(20)) { response("strategy-1") != nil })
        #expect(response("strategy-1")?.contains("\"result_code\":0") == true, "\(response("strategy-1") ?? "")")
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty }, "\(site.platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}

extension CloudSite {
    /// Turns the CoAPS listener on at a free loopback port, with the sample water-meter product,
    /// `devices` as the NB-IoT device list and `lwm2m` as the `[lwm2m]` table. Returns the port.
    func enableLwM2M(lwm2m: String, devices: String) throws -> UInt16 {
        let coaps = FreePort.next(udp: true)
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        fixture.directory.write("products/water-meter.toml", sample)
        fixture.directory.write("nbiot-devices.csv", devices)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "[listeners.coaps]\nenabled = false",
                                  with: "[listeners.coaps]\nenabled = true\nport = \(coaps)\nbind = [\"127.0.0.1\"]")
            + "\n[lwm2m]\n\(lwm2m)\n\n[paths]\nnbiot_devices = \"nbiot-devices.csv\"\n"
        fixture.directory.write("edgegw.toml", config)
        return coaps
    }
}
