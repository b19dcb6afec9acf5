import Config
import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// The sample device file against the simulated meter `make demo` runs (modbus_sim.py --meter).
@Suite(.serialized) struct SampleMeterTests {
    @Test func theSampleFileReadsTheSimulatedMeter() async throws {
        let port = FreePort.next()
        let peer = try ModbusPeer(tcpPort: port, units: [1], meter: true)
        defer { peer.stop() }
        try #require(await peer.ready())

        let products = DeviceConfigTests.products()
        let path = "\(Paths.packageRoot)/etc/edgegw/devices/power-meter.toml"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "port = 1502", with: "port = \(port)")
        let diagnostics = ConfigDiagnostics()
        guard case .success(let document) = TOMLDocumentParser.parse(text: text, file: path) else {
            Issue.record("sample does not parse"); return
        }
        let device = try #require(ModbusDeviceConfig.parse(reader: ConfigReader(document: document, diagnostics: diagnostics),
                                                            products: products), "\(diagnostics.all)")
        let sink = RecordingSink()
        var logger = Logger(label: "edgegw.modbus.test")
        logger.logLevel = .error
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: products, sink: sink, logger: logger)
        #expect(service.children == [ChildDevice(nodeId: "meter-01", productId: "power-meter", source: .modbus,
                                                 name: "Main meter, cabinet 1")])
        let task = Task { try await service.run() }
        defer { task.cancel() }
        #expect(await sink.waitForStatus("meter-01", .online))
        #expect(await Eventually.wait {
            sink.latest("meter-01", service: "meter", property: "serial_number") != nil
                && sink.latest("meter-01", service: "meter", property: "voltage") != nil
        })
        let voltage = try #require(sink.latest("meter-01", service: "meter", property: "voltage")?.doubleValue)
        #expect(voltage > 220 && voltage < 240)
        let frequency = try #require(sink.latest("meter-01", service: "meter", property: "frequency")?.doubleValue)
        #expect(frequency > 49.9 && frequency < 50.1)
        #expect(sink.latest("meter-01", service: "meter", property: "serial_number") == "PM100-000001")
        #expect(sink.latest("meter-01", service: "meter", property: "running") == true)
        #expect(sink.latest("meter-01", service: "meter", property: "ct_ratio") == 100)
        #expect(sink.latest("meter-01", service: "meter", property: "power_limit") == 5000.0)

        // The commands of the sample file reach the meter.
        let relay = await service.command(ChildCommand(requestId: "c1", nodeId: "meter-01", serviceId: "meter",
                                                       commandName: "switch_relay", paras: ["state": true]), deadline: .init(offset: .seconds(19)))
        #expect(relay == .success())
        #expect(await peer.get(unit: 1, table: "coil", address: 0, count: 1) == [1])
        let reset = await service.command(ChildCommand(requestId: "c2", nodeId: "meter-01", serviceId: "meter",
                                                       commandName: "reset_energy", paras: [:]), deadline: .init(offset: .seconds(19)))
        #expect(reset.resultCode == 0)
        #expect(await peer.get(unit: 1, table: "coil", address: 1, count: 1) == [1])
        let configure = await service.command(ChildCommand(requestId: "c3", nodeId: "meter-01", serviceId: "meter",
                                                           commandName: "configure", paras: ["ct_ratio": 200, "power_limit": 7500]), deadline: .init(offset: .seconds(19)))
        #expect(configure.resultCode == 0)
        #expect(await peer.get(unit: 1, table: "holding", address: 0, count: 5) == [200, 0, 1, 0, 750])
        let tooHigh = await service.command(ChildCommand(requestId: "c4", nodeId: "meter-01", serviceId: "meter",
                                                         commandName: "configure", paras: ["ct_ratio": 2000]), deadline: .init(offset: .seconds(19)))
        #expect(tooHigh.resultCode == DownlinkResultCode.badRequest.rawValue)
        #expect(await Eventually.wait { sink.latest("meter-01", service: "meter", property: "ct_ratio") == 200 })
        task.cancel()
        _ = try? await task.value
    }
}
