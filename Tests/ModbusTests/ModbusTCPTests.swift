import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// The real libmodbus against a pymodbus slave on 127.0.0.1.
@Suite(.serialized) struct ModbusTCPTests {
    static func quietLogger() -> Logger {
        var logger = Logger(label: "edgegw.modbus.test")
        logger.logLevel = .error
        return logger
    }

    /// Runs a service for the body, then cancels it and waits for its threads to end.
    static func running<T>(_ service: ModbusService, _ body: () async throws -> T) async rethrows -> T {
        let task = Task { try await service.run() }
        defer { task.cancel() }
        let result = try await body()
        task.cancel()
        _ = try? await task.value
        return result
    }

    static func startPeer(units: [Int] = [1]) async throws -> (ModbusPeer, UInt16) {
        let port = FreePort.next()
        let peer = try ModbusPeer(tcpPort: port, units: units)
        try #require(await peer.ready(), "pymodbus peer did not start")
        return (peer, port)
    }

    @Test func readsAreMergedAsPlanned() async throws {
        let (peer, port) = try await Self.startPeer()
        defer { peer.stop() }
        let points = [
            point("a", address: 0, type: .uint16),
            point("b", address: 1, type: .uint16),
            point("c", address: 2, type: .uint32),
            point("d", address: 14, type: .uint16),          // gap of 10: bridged
            point("e", address: 100, type: .float32),        // gap of 85: a read of its own
            point("f", table: .input, address: 0, type: .int32),
            point("g", table: .coil, address: 0, type: .bool),
            point("h", table: .coil, address: 5, type: .bool),
        ]
        let device = ModbusDeviceConfig(nodeId: "merge-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(100))],
                                        points: points, maxGapRegisters: 16)
        let planned = ReadPlanner.plan(device: device)[0].map { "fc \($0.table.readFunction) \($0.address)+\($0.count)" }
        #expect(planned == ["fc 3 0+15", "fc 3 100+2", "fc 4 0+2", "fc 1 0+6"])

        let sink = RecordingSink()
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: sink, logger: log.logger())
        await Self.running(service) {
            #expect(await sink.waitForReport("merge-1"))
            // The hex trace shows requests and answers once switched on.
            #expect(service.setTrace(bus: device.busId, enabled: true))
            #expect(await Eventually.wait { log.lines.contains { $0.contains("fc 3 address 0 count 15 -> 0000 0000") } })
            service.setTrace(bus: device.busId, enabled: false)
            #expect(await Eventually.wait { (service.diagnostics().device("merge-1")?.counters.requests ?? 0) >= 12 })
        }
        // Stopped between cycles: the server saw whole cycles of exactly the planned reads.
        let seen = try #require(await peer.requests()).map { "fc \($0.function) \($0.address)+\($0.count)" }
        #expect(seen.count >= 12)
        #expect(seen.count % planned.count == 0)
        for (index, request) in seen.enumerated() { #expect(request == planned[index % planned.count]) }
        let counters = try #require(service.diagnostics().device("merge-1")?.counters)
        #expect(counters.requests == seen.count)
        #expect(counters.responses == seen.count)
        #expect(counters.itemsRead == seen.count / 4 * (15 + 2 + 2 + 6))
        #expect(counters.lastGoodRead != nil)
    }

    @Test func everyTypeAndByteOrderDecodesAsWritten() async throws {
        let (peer, port) = try await Self.startPeer()
        defer { peer.stop() }
        var points: [ModbusPoint] = []
        var expected: [String: JSONValue] = [:]
        var address = 0
        for order in ModbusByteOrder.allCases {
            for sample in RegisterLayout.samples {
                let name = "\(sample.type.rawValue)_\(order.rawValue)"
                let words = RegisterLayout.registers(bigEndian: sample.bytes, order: order)
                #expect(await peer.set(unit: 1, table: "holding", address: address, words.map(Int.init)))
                points.append(point(name, address: address, type: sample.type, order: order))
                expected[name] = sample.json
                address += words.count + 1
            }
        }
        // Text, bits of a register, coils, discrete inputs, input registers, scaling.
        #expect(await peer.set(unit: 1, table: "holding", address: 200, [0x5041, 0x4E45, 0x4C2D, 0x3700]))  // "PANEL-7"
        points.append(point("text", address: 200, type: .string, length: 4)); expected["text"] = "PANEL-7"
        #expect(await peer.set(unit: 1, table: "holding", address: 210, [0b1000_0000_0000_0100]))
        points.append(point("bit2", address: 210, type: .bit, bit: 2)); expected["bit2"] = true
        points.append(point("bit3", address: 210, type: .bit, bit: 3)); expected["bit3"] = false
        points.append(point("bit15", address: 210, type: .bit, bit: 15)); expected["bit15"] = true
        #expect(await peer.set(unit: 1, table: "coil", address: 7, [1]))
        points.append(point("coil7", table: .coil, address: 7, type: .bool)); expected["coil7"] = true
        points.append(point("coil8", table: .coil, address: 8, type: .bool)); expected["coil8"] = false
        #expect(await peer.set(unit: 1, table: "discrete", address: 3, [1]))
        points.append(point("di3", table: .discrete, address: 3, type: .bool)); expected["di3"] = true
        #expect(await peer.set(unit: 1, table: "input", address: 40, [0xFF9C]))   // -100
        points.append(point("temp", table: .input, address: 40, type: .int16, scale: 0.5, offset: 10)); expected["temp"] = -40.0

        let device = ModbusDeviceConfig(nodeId: "types-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(200))],
                                        points: points)
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: sink, logger: Self.quietLogger())
        let started = Date()
        await Self.running(service) {
            #expect(await sink.waitForReport("types-1"))
        }
        let report = try #require(sink.reports.first)
        let values = try #require(report.services.first { $0.serviceId == "s" })
        for (name, value) in expected { #expect(values.properties[name] == value, "\(name)") }
        #expect(values.properties.count == expected.count)
        // event_time is when the values were collected.
        let eventTime = try #require(values.eventTime)
        #expect(eventTime >= started.addingTimeInterval(-1) && eventTime <= Date())
    }

    @Test func writesReachTheSlave() async throws {
        let (peer, port) = try await Self.startPeer()
        defer { peer.stop() }
        let product = ProductModel(id: "p", manufacturer: "", model: "", deviceType: "", protocolType: .modbus, dataFormat: .json, services: [
            .init(id: "s", properties: [
                .init(name: "setpoint", type: .decimal, min: -1000, max: 1000, access: .readWrite),
                .init(name: "relay", type: .boolean, access: .readWrite),
                .init(name: "mode", type: .boolean, access: .readWrite),
                .init(name: "far", type: .int, access: .readWrite),
            ], commands: [
                .init(name: "switch", paras: [.init(name: "on", type: .boolean, required: true)], responses: []),
            ]),
        ])
        let device = ModbusDeviceConfig(
            nodeId: "write-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)), unitId: 1,
            pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(200))],
            points: [
                point("setpoint", address: 20, type: .float32, order: .cdab, scale: 0.1),
                point("relay", table: .coil, address: 4, type: .bool),
                point("mode", address: 30, type: .bit, bit: 5),
                point("far", address: 9999, type: .uint32),   // runs past the slave's 10000 registers
            ],
            commands: [ModbusCommandMapping(serviceId: "s", name: "switch", paras: [("on", "relay")], constants: [])])
        #expect(await peer.set(unit: 1, table: "holding", address: 30, [0x0101]))
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: ["p": product], sink: sink,
                                    logger: Self.quietLogger())
        await Self.running(service) {
            let set = await service.setProperties(requestId: "r1", nodeId: "write-1", services: [
                ServiceReport(serviceId: "s", properties: ["setpoint": -12.5, "mode": true]),
            ], deadline: .init(offset: .seconds(19)))
            #expect(set.resultCode == 0, "\(set)")
            // -125.0 as float32 CDAB, and bit 5 set without touching the others.
            let expected = RegisterLayout.registers(bigEndian: RegisterLayout.bytes(Float(-125).bitPattern), order: .cdab)
            #expect(await peer.get(unit: 1, table: "holding", address: 20, count: 2) == expected.map(Int.init))
            #expect(await peer.get(unit: 1, table: "holding", address: 30, count: 1) == [0x0121])

            let command = await service.command(ChildCommand(requestId: "r2", nodeId: "write-1", serviceId: "s",
                                                             commandName: "switch", paras: ["on": true]), deadline: .init(offset: .seconds(19)))
            #expect(command.resultCode == 0)
            #expect(await peer.get(unit: 1, table: "coil", address: 4, count: 1) == [1])

            // The new value is read back and reported.
            #expect(await Eventually.wait { sink.latest("write-1", service: "s", property: "relay") == true })

            let outOfRange = await service.setProperties(requestId: "r3", nodeId: "write-1", services: [
                ServiceReport(serviceId: "s", properties: ["setpoint": 5000]),
            ], deadline: .init(offset: .seconds(19)))
            #expect(outOfRange.resultCode == DownlinkResultCode.badRequest.rawValue)
            #expect(outOfRange.resultDesc == "setpoint=5000 is above its maximum 1000")

            // The slave refuses an address it does not have: its exception code comes back.
            let refused = await service.setProperties(requestId: "r4", nodeId: "write-1", services: [
                ServiceReport(serviceId: "s", properties: ["far": 1]),
            ], deadline: .init(offset: .seconds(19)))
            #expect(refused.resultCode == DownlinkResultCode.deviceError.rawValue)
            #expect(refused.resultDesc == "Modbus exception 2 (illegal data address)", "\(refused)")
            #expect(refused.paras["modbus_exception"] == 2)

            let values = await service.getProperties(requestId: "r5", nodeId: "write-1", serviceId: "s", deadline: .init(offset: .seconds(19)))
            #expect((try? values.get())?.first?.properties["mode"] == true)
            #expect(await service.handles(nodeId: "write-1"))
            #expect(!(await service.handles(nodeId: "other")))
        }
        #expect((service.diagnostics().device("write-1")?.counters.exceptions ?? 0) >= 1)
    }

    @Test func aSlaveThatGoesAwayIsOfflineAndComesBackOnline() async throws {
        let (peer, port) = try await Self.startPeer()
        defer { peer.stop() }
        let device = ModbusDeviceConfig(nodeId: "flaky-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(100))],
                                        points: [point("v", address: 0, type: .uint16)])
        let settings = ModbusSettings(responseTimeout: .milliseconds(300), failuresBeforeOffline: 2,
                                      retryBackoff: .milliseconds(100), retryBackoffMax: .milliseconds(400))
        let sink = RecordingSink()
        let service = ModbusService(settings: settings, devices: [device], products: [:], sink: sink, logger: Self.quietLogger())
        await Self.running(service) {
            #expect(await sink.waitForStatus("flaky-1", .online))
            await peer.mode(unit: 1, "silent")
            #expect(await sink.waitForStatus("flaky-1", .offline))
            #expect(service.diagnostics().device("flaky-1")?.health == .offline)
            #expect((service.diagnostics().device("flaky-1")?.counters.timeouts ?? 0) >= 2)
            await peer.mode(unit: 1, "ok")
            #expect(await sink.waitForStatus("flaky-1", .online, count: 2))
        }
        #expect(sink.statuses(of: "flaky-1") == [.online, .offline, .online])
    }

    @Test func aServerThatIsNotThereIsOffline() async throws {
        let port = FreePort.next()
        let device = ModbusDeviceConfig(nodeId: "gone-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(50))],
                                        points: [point("v", address: 0, type: .uint16)])
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(failuresBeforeOffline: 2, retryBackoff: .milliseconds(50)),
                                    devices: [device], products: [:], sink: sink, logger: Self.quietLogger())
        await Self.running(service) {
            #expect(await sink.waitForStatus("gone-1", .offline))
        }
        #expect((service.diagnostics().device("gone-1")?.counters.connectionErrors ?? 0) >= 2)
        #expect(sink.reports.isEmpty)
        let result = await service.getProperties(requestId: "r", nodeId: "gone-1", serviceId: nil, deadline: .init(offset: .seconds(19)))
        #expect(result == .failure(DownlinkError(.deviceUnreachable, "no value has been read from gone-1 yet")))
    }
}

extension ModbusTCPTests {
    /// RTU frames over TCP (a serial-to-Ethernet converter): reads, and CRC errors counted.
    @Test func rtuOverTCP() async throws {
        let port = FreePort.next()
        let peer = try ModbusPeer(rtuOverTCPPort: port, units: [4])
        defer { peer.stop() }
        try #require(await peer.ready())
        #expect(await peer.set(unit: 4, table: "holding", address: 8, [0xBEEF, 0x0001]))
        let device = ModbusDeviceConfig(nodeId: "conv-4", productId: "p", transport: .rtuOverTCP(host: "localhost", port: Int(port)),
                                        unitId: 4, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(100))],
                                        points: [point("v", address: 8, type: .uint32, order: .cdab)])
        #expect(device.busId == ModbusBusID("rtu-tcp:localhost:\(port)"))
        let sink = RecordingSink()
        let settings = ModbusSettings(responseTimeout: .milliseconds(300), retryBackoff: .milliseconds(100),
                                      retryBackoffMax: .milliseconds(400))
        let service = ModbusService(settings: settings, devices: [device], products: [:], sink: sink, logger: Self.quietLogger())
        await Self.running(service) {
            #expect(await Eventually.wait { sink.latest("conv-4", service: "s", property: "v") == .int(0x0001_BEEF) })
            // Broken answers of every kind are counted; none brings the device down for long.
            await peer.mode(unit: 4, "badcrc")
            #expect(await Eventually.wait { (service.diagnostics().device("conv-4")?.counters.crcErrors ?? 0) >= 2 })
            await peer.mode(unit: 4, "wrongunit")
            #expect(await Eventually.wait { (service.diagnostics().device("conv-4")?.counters.badResponses ?? 0) >= 1 })
            await peer.mode(unit: 4, "short")
            let before = service.diagnostics().device("conv-4")?.counters ?? ModbusCounters()
            #expect(await Eventually.wait {
                let now = service.diagnostics().device("conv-4")?.counters ?? ModbusCounters()
                return now.timeouts + now.badResponses + now.crcErrors > before.timeouts + before.badResponses + before.crcErrors
            })
            await peer.mode(unit: 4, "ok")
            #expect(await peer.set(unit: 4, table: "holding", address: 8, [0x0002, 0x0000]))
            #expect(await Eventually.wait { sink.latest("conv-4", service: "s", property: "v") == 2 })
        }
    }
}

extension ModbusTCPTests {
    /// The bus leaves the configured silence between two requests, also within one cycle.
    @Test func interRequestDelayIsKept() async throws {
        let (peer, port) = try await Self.startPeer()
        defer { peer.stop() }
        let device = ModbusDeviceConfig(nodeId: "slow-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        busOverrides: ModbusBusOverrides(interRequestDelay: .milliseconds(150)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(10))],
                                        points: [point("a", address: 0, type: .uint16), point("b", address: 500, type: .uint16),
                                                 point("c", table: .input, address: 0, type: .uint16)])
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: RecordingSink(),
                                    logger: Self.quietLogger())
        await Self.running(service) {
            #expect(await Eventually.wait { (service.diagnostics().device("slow-1")?.counters.requests ?? 0) >= 7 })
        }
        let times = try #require(await peer.requests()).map(\.time)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.count >= 6)
        #expect(gaps.allSatisfy { $0 >= 0.14 }, "\(gaps)")
    }
}
