import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// RTU over a socat pty pair: edgegw on one end, a pymodbus RTU slave serving units 1 and 2 on
/// the other; unit 7 has no slave behind it.
@Suite(.serialized) struct ModbusRTUTests {
    @Test func aDeadSlaveDoesNotHoldUpTheHealthyOnes() async throws {
        let pty = try ModbusPtyPair()
        defer { pty.stop() }
        try #require(await pty.ready(), "socat did not open a pty pair")
        let peer = try ModbusPeer(rtu: pty.ends.1, units: [1, 2])
        defer { peer.stop() }
        try #require(await peer.ready(), "pymodbus RTU slave did not start")
        #expect(await peer.set(unit: 1, table: "holding", address: 0, [1234]))
        #expect(await peer.set(unit: 2, table: "input", address: 5, [0x4049, 0x0FDB]))   // 3.1415927 as float32

        let serial = ModbusTransport.SerialSettings(device: pty.ends.0, baud: 19200)
        let interval = Duration.milliseconds(1000)
        let timeout = Duration.milliseconds(300)
        func device(_ node: String, unit: Int, _ points: [ModbusPoint]) -> ModbusDeviceConfig {
            ModbusDeviceConfig(nodeId: node, productId: "p", transport: .rtu(serial), unitId: unit,
                               pollGroups: [ModbusPollGroup(name: "g", interval: interval)], points: points)
        }
        let devices = [
            device("healthy-1", unit: 1, [point("v", address: 0, type: .uint16)]),
            device("dead-7", unit: 7, [point("v", address: 0, type: .uint16)]),
            device("healthy-2", unit: 2, [point("pi", table: .input, address: 5, type: .float32)]),
        ]
        let settings = ModbusSettings(interRequestDelay: .milliseconds(5), responseTimeout: timeout, failuresBeforeOffline: 2,
                                      retryBackoff: .milliseconds(500), retryBackoffMax: .seconds(3))
        let sink = RecordingSink()
        var logger = Logger(label: "edgegw.modbus.test")
        logger.logLevel = .error
        let service = ModbusService(settings: settings, devices: devices, products: [:], sink: sink, logger: logger)
        #expect(service.busIds == [ModbusBusID("rtu:\(pty.ends.0)")])

        let task = Task { try await service.run() }
        #expect(await sink.waitForStatus("healthy-1", .online))
        #expect(await sink.waitForStatus("healthy-2", .online))
        #expect(await sink.waitForStatus("dead-7", .offline))
        await peer.resetRequests()
        let window = Date()
        try await Task.sleep(for: .seconds(6))

        // Slave 2 answers with a broken CRC for a while: counted, and slave 1 keeps being served.
        await peer.mode(unit: 2, "badcrc")
        #expect(await Eventually.wait { (service.diagnostics().device("healthy-2")?.counters.crcErrors ?? 0) >= 1 })
        await peer.mode(unit: 2, "ok")
        task.cancel()
        _ = try? await task.value

        #expect(sink.latest("healthy-1", service: "s", property: "v") == 1234)
        if case .double(let pi)? = sink.latest("healthy-2", service: "s", property: "pi") {
            #expect(abs(pi - 3.1415927) < 1e-6)
        } else {
            Issue.record("no float from unit 2")
        }
        #expect(sink.statuses(of: "healthy-1") == [.online])
        #expect(sink.statuses(of: "dead-7") == [.offline])

        // The healthy slave was read every interval, never later than one timeout of the dead one.
        let requests = try #require(await peer.requests())
        let healthy = requests.filter { $0.unit == 1 && $0.time >= window.timeIntervalSince1970 }.map(\.time)
        let gaps = zip(healthy.dropFirst(), healthy).map { $0 - $1 }
        let limit = Double(interval.components.seconds) + 0.3 + 0.25   // interval + dead slave's timeout + scheduling slack
        #expect(healthy.count >= 5, "\(healthy.count) reads of unit 1 in 6 s")
        #expect(gaps.allSatisfy { $0 < limit }, "gaps \(gaps)")
        #expect(gaps.allSatisfy { $0 < 2 * Double(interval.components.seconds) })
        // The dead slave costs one probe per backoff, not one per interval.
        let deadProbes = requests.filter { $0.unit == 7 && $0.time >= window.timeIntervalSince1970 }.count
        #expect(deadProbes <= 4, "\(deadProbes) probes of the dead unit")
        let diagnostics = try #require(service.diagnostics().device("dead-7"))
        #expect(diagnostics.health == .offline)
        #expect(diagnostics.counters.timeouts >= 2)
        #expect(diagnostics.counters.lastGoodRead == nil)
    }
}

extension ModbusRTUTests {
    /// A pty cannot switch to RS-485 mode: the port is used as it is and the refusal logged.
    @Test func rs485OnAPortWithoutItIsLoggedAndUsed() async throws {
        let pty = try ModbusPtyPair()
        defer { pty.stop() }
        try #require(await pty.ready())
        let peer = try ModbusPeer(rtu: pty.ends.1, units: [1])
        defer { peer.stop() }
        try #require(await peer.ready())
        #expect(await peer.set(unit: 1, table: "holding", address: 3, [77]))
        let device = ModbusDeviceConfig(
            nodeId: "rs485-1", productId: "p", transport: .rtu(.init(device: pty.ends.0, baud: 19200, rs485: true)), unitId: 1,
            pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(200))], points: [point("v", address: 3, type: .uint16)])
        let sink = RecordingSink()
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(responseTimeout: .milliseconds(500)), devices: [device],
                                    products: [:], sink: sink, logger: log.logger(level: .warning))
        let task = Task { try await service.run() }
        #expect(await Eventually.wait { sink.latest("rs485-1", service: "s", property: "v") == 77 })
        task.cancel()
        _ = try? await task.value
        #expect(log.lines.contains { $0.contains("cannot switch \(pty.ends.0) to RS-485 mode") })
    }
}
