import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// `ModbusService.shutdown()` against a pymodbus slave on 127.0.0.1: polling stops, the cycle in
/// flight ends (no request cut), its values reach the sink, and `run()` returns promptly.
@Suite(.serialized) struct ModbusShutdownTests {
    typealias T = ModbusTCPTests

    @Test func aStopDuringACycleLetsItEndAndHandsItsValuesToTheSink() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        // Three reads 1 s apart (holding 0, holding 500, input 0): a cycle takes 2 s, so the stop
        // lands inside one even when a loaded machine stalls this test for a second.
        let device = ModbusDeviceConfig(nodeId: "stop-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        busOverrides: ModbusBusOverrides(interRequestDelay: .seconds(1)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(10))],
                                        points: [point("a", address: 0, type: .uint16), point("b", address: 500, type: .uint16),
                                                 point("c", table: .input, address: 0, type: .uint16)])
        let planned = ReadPlanner.plan(device: device)[0].map { "fc \($0.table.readFunction) \($0.address)+\($0.count)" }
        #expect(planned == ["fc 3 0+1", "fc 3 500+1", "fc 4 0+1"])
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: sink,
                                    logger: T.quietLogger())
        let finished = Locked(false)
        let task = Task { try await service.run(); finished.withLock { $0 = true } }
        #expect(await Eventually.wait { sink.latest("stop-1", service: "s", property: "c") == 0 })

        // Just after a cycle's first read: its last read (input 0) is still 2 s away.
        #expect(await Eventually.wait(poll: .milliseconds(5)) { (await peer.requests() ?? []).count % 3 == 1 })
        let stopped = Date()
        #expect(await peer.set(unit: 1, table: "input", address: 0, [4242]))
        let shutdownAt = Date()
        service.shutdown()
        let returned = await Eventually.wait(timeout: .seconds(8)) { finished.withLock { $0 } }
        let took = Date().timeIntervalSince(shutdownAt)
        #expect(returned, "run() did not return within 8 s of shutdown()")
        _ = try? await task.value
        // The cycle's rest (at most 2 s) and a margin for a loaded machine; the next cycle would be
        // another 3 s, and a bus that ignored the stop would never return.
        #expect(took < 5, "run() took \(took) s to return")

        // The cycle in flight ended: the slave saw whole cycles, the last one after the stop, and
        // every request was answered (none cut).
        let seen = try #require(await peer.requests())
        #expect(seen.count >= 6)
        #expect(seen.count % planned.count == 0, "\(seen)")
        for (index, request) in seen.enumerated() {
            #expect("fc \(request.function) \(request.address)+\(request.count)" == planned[index % planned.count])
        }
        let last = try #require(seen.last)
        #expect(last.time > stopped.timeIntervalSince1970, "the last read went out before the stop")
        let counters = try #require(service.diagnostics().device("stop-1")?.counters)
        #expect(counters.requests == seen.count && counters.responses == seen.count, "\(counters), \(seen.count) seen")
        // What that last read found reached the sink before run() returned.
        #expect(sink.latest("stop-1", service: "s", property: "c") == 4242)

        // Nothing is polled any more.
        try await Task.sleep(for: .milliseconds(700))
        #expect(await peer.requests()?.count == seen.count)
    }

    @Test func aStopBetweenCyclesReturnsAtOnceAndLaterWritesFail() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        let device = ModbusDeviceConfig(nodeId: "idle-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .seconds(30))],
                                        points: [point("v", address: 0, type: .uint16)])
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: sink,
                                    logger: T.quietLogger())
        let finished = Locked(false)
        let task = Task { try await service.run(); finished.withLock { $0 = true } }
        #expect(await sink.waitForReport("idle-1"))
        #expect(await sink.waitForStatus("idle-1", .online))
        // The bus waits 30 s for its next cycle: the stop wakes it.
        let stopped = Date()
        service.shutdown()
        service.shutdown()   // twice is harmless
        #expect(await Eventually.wait(timeout: .seconds(5)) { finished.withLock { $0 } })
        _ = try? await task.value
        let took = Date().timeIntervalSince(stopped)
        // Well inside the 30 s the bus was waiting for (a loaded machine may stall this test).
        #expect(took < 3, "run() took \(took) s to return")
        #expect(await peer.requests()?.count == 1)
        #expect(sink.statuses(of: "idle-1") == [.online])
        let refused = await service.setProperties(requestId: "r", nodeId: "idle-1", services: [
            ServiceReport(serviceId: "s", properties: ["v": 1]),
        ], deadline: .init(offset: .seconds(19)))
        #expect(refused.resultCode == DownlinkResultCode.internalError.rawValue, "\(refused)")
        #expect(refused.resultDesc == "the Modbus bus is stopping")
    }

    @Test func aStopBeforeRunMakesRunReturnWithoutPolling() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        let device = ModbusDeviceConfig(nodeId: "never-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(10))],
                                        points: [point("v", address: 0, type: .uint16)])
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: RecordingSink(),
                                    logger: T.quietLogger())
        service.shutdown()
        try await service.run()
        #expect(await peer.requests()?.count == 0)
    }

    /// The gateway's call (`FieldService.finish()`): it returns only once `run()` has handed the
    /// last values over and returned; before `run()`, at once.
    @Test func finishReturnsOnceRunHasReturned() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        let device = ModbusDeviceConfig(nodeId: "fin-1", productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                                        busOverrides: ModbusBusOverrides(interRequestDelay: .seconds(1)),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(10))],
                                        points: [point("a", address: 0, type: .uint16), point("c", table: .input, address: 0, type: .uint16)])
        let sink = RecordingSink()
        let service = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: sink,
                                    logger: T.quietLogger())
        let finished = Locked(false)
        let task = Task { try await service.run(); finished.withLock { $0 = true } }
        #expect(await sink.waitForReport("fin-1"))
        // Just after a cycle's first read: its second read (input 0) is 300 ms away.
        #expect(await Eventually.wait(poll: .milliseconds(5)) { (await peer.requests() ?? []).count % 2 == 1 })
        #expect(await peer.set(unit: 1, table: "input", address: 0, [777]))
        await service.finish()
        #expect(sink.latest("fin-1", service: "s", property: "c") == 777, "finish() returned before the last values went out")
        _ = try? await task.value
        #expect(finished.withLock { $0 })

        let idle = ModbusService(settings: ModbusSettings(), devices: [device], products: [:], sink: RecordingSink(),
                                 logger: T.quietLogger())
        await idle.finish()   // never ran: returns at once
    }
}
