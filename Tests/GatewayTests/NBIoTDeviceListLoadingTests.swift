import Foundation
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore

@Suite struct NBIoTDeviceListLoadingTests {
    func fixture(list name: String, _ text: String) throws -> ConfigFixture {
        let fixture = ConfigFixture(extra: "\n[paths]\nnbiot_devices = \"\(name)\"\n")
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        fixture.directory.write("products/water-meter.toml", sample)
        fixture.directory.write(name, text)
        return fixture
    }

    @Test func theTOMLSampleLoads() throws {
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/nbiot-devices.toml", encoding: .utf8)
        let site = try fixture(list: "nbiot-devices.toml", sample)
        let loaded = try ConfigLoader.load(path: site.configPath).get()
        #expect(loaded.nbiotDevices.map(\.nodeId) == ["861234567890123", "861234567890125"])
        #expect(loaded.nbiotDevices[0].psk == Array("12345678".utf8))
        #expect(loaded.nbiotDevices[0].pcpUpgradeCapable)
        #expect(loaded.nbiotDevices[1].psk.count == 16)
        #expect(loaded.devices.filter { $0.source == .lwm2m }.count == 2)
    }

    @Test func tomlProblemsCarryFileLineAndKey() throws {
        let text = """
            [[devices]]
            nodeId = "861234567890001"
            productId = "water-meter"
            secure = "DTLS"
            pks = "12345678"

            [[devices]]
            nodeId = "861234567890001"
            productId = "gas-meter"
            psk = "12345678"
            """
        let site = try fixture(list: "nb.toml", text)
        guard case .failure(let errors) = ConfigLoader.load(path: site.configPath) else {
            Issue.record("a broken list was accepted"); return
        }
        let d = errors.diagnostics
        #expect(d.contains { $0.file.hasSuffix("nb.toml") && $0.line == 5 && $0.keyPath == "devices[0].pks" && $0.fix?.hasPrefix("did you mean") == true }, "\(d)")
        #expect(d.contains { $0.line == 2 && $0.problem.contains("has no PSK") }, "\(d)")
        #expect(d.contains { $0.line == 8 && $0.problem.contains("unknown product gas-meter") }, "\(d)")
    }

    @Test func aCSVAndAModbusDeviceMayNotShareANodeId() throws {
        let csv = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret\nmeter-1,,water-meter,0,,12345678,,DTLS,86400,\n"
        let site = try fixture(list: "nb.csv", csv)
        guard case .failure(let errors) = ConfigLoader.load(path: site.configPath) else {
            Issue.record("a duplicate node id was accepted"); return
        }
        #expect(errors.diagnostics.contains { $0.problem.contains("node_id \"meter-1\" is already used") }, "\(errors)")
    }

    @Test func thePSKSecretsFileMustBePrivate() throws {
        let csv = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret\n861234567890124,,water-meter,0,,,,DTLS,86400,\n"
        let site = try fixture(list: "nb.csv", csv)
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8) + "\n[lwm2m]\npsk_secrets_file = \"secrets/psk\"\n"
        site.directory.write("edgegw.toml", config)
        let path = site.directory.write("secrets/psk", "861234567890124 = abcdefgh\n", mode: 0o644)
        guard case .failure(let loose) = ConfigLoader.load(path: site.configPath) else {
            Issue.record("a PSK file others can read was accepted"); return
        }
        #expect(loose.diagnostics.contains { $0.keyPath == "lwm2m.psk_secrets_file" && $0.fix == "run `chmod 600 \(path)`" }, "\(loose)")
        #expect(!"\(loose)".contains("abcdefgh"))
        chmod(path, 0o600)
        let loaded = try ConfigLoader.load(path: site.configPath).get()
        #expect(loaded.nbiotDevices.first?.psk == Array("abcdefgh".utf8))
    }
}
