import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// A sink that holds every report until the test opens it: a cloud path slower than the buses.
final class GatedSink: UplinkSink, @unchecked Sendable {
    let recorded = RecordingSink()
    private let open = Locked(false)
    private let entered = Locked(0)

    /// Reports that reached the sink (waiting or passed on).
    var reportCalls: Int { entered.withLock { $0 } }

    func release() { open.withLock { $0 = true } }

    func report(nodeId: String, services: [ServiceReport]) async {
        entered.withLock { $0 += 1 }
        while !open.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        await recorded.report(nodeId: nodeId, services: services)
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {
        await recorded.statusChanged(nodeId: nodeId, status: status, at: time)
    }

    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {}
}

/// ModbusService against a pymodbus slave: the one time base it is given, and a sink that does
/// not keep up.
@Suite(.serialized) struct ModbusUplinkTests {
    typealias T = ModbusTCPTests

    func device(_ nodeId: String, port: UInt16, interval: Duration) -> ModbusDeviceConfig {
        ModbusDeviceConfig(nodeId: nodeId, productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                           unitId: 1, pollGroups: [ModbusPollGroup(name: "g", interval: interval)],
                           points: [point("v", address: 0, type: .uint16)])
    }

    @Test func timeStampsAndFullReportsFollowTheInjectedClock() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        let manual = ManualClock()
        let sink = RecordingSink()
        // One poll an hour; a full report every 60 s of the manual clock.
        let service = ModbusService(settings: ModbusSettings(fullReportInterval: .seconds(60)),
                                    devices: [device("clock-1", port: port, interval: .seconds(3600))], products: [:],
                                    sink: sink, logger: T.quietLogger(), clock: .manual(manual))
        try await T.running(service) {
            #expect(await sink.waitForReport("clock-1"))
            // Collected at the manual clock's wall time, not the system's.
            let first = try #require(sink.reports.first?.services.first?.eventTime)
            #expect(first == GatewayClock.testEpoch)
            #expect(await Eventually.wait { service.diagnostics().device("clock-1")?.health == .online })
            #expect(service.diagnostics().device("clock-1")?.counters.lastGoodRead == GatewayClock.testEpoch)
            // No full report until the manual clock says 60 s have passed, however long the test takes.
            #expect(await Eventually.wait { manual.sleeperCount >= 1 })
            manual.advance(by: .seconds(59))
            try await Task.sleep(for: .milliseconds(300))
            #expect(sink.reports.count == 1)
            for _ in 0..<2 {
                #expect(await Eventually.wait { manual.sleeperCount >= 1 })
                manual.advance(by: .milliseconds(500))
            }
            #expect(await Eventually.wait { sink.reports.count == 2 })
            // A full report carries the time of the last good read.
            #expect(sink.reports.last?.services.first?.eventTime == GatewayClock.testEpoch)
            #expect(sink.reports.last?.services.first?.properties["v"] == 0)
        }
        #expect(await peer.requests()?.count == 1)
    }

    @Test func readingsASlowSinkCannotTakeAreCoalescedCountedAndWarnedAbout() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        let sink = GatedSink()
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(), devices: [device("slow-sink-1", port: port, interval: .milliseconds(20))],
                                    products: [:], sink: sink, logger: log.logger())
        await T.running(service) {
            // The first report is held in the sink; the bus goes on reading.
            #expect(await Eventually.wait { sink.reportCalls == 1 })
            for value in 1...3 {
                #expect(await peer.set(unit: 1, table: "holding", address: 0, [value]))
                let read = service.diagnostics().device("slow-sink-1")?.counters.requests ?? 0
                #expect(await Eventually.wait { (service.diagnostics().device("slow-sink-1")?.counters.requests ?? 0) >= read + 2 })
            }
            // 1 was replaced by 2, 2 by 3: both dropped, 3 waits.
            #expect(service.diagnostics().droppedValues == 2)
            #expect(service.droppedValues == 2)
            #expect(sink.reportCalls == 1)
            sink.release()
            #expect(await Eventually.wait { sink.recorded.latest("slow-sink-1", service: "s", property: "v") == 3 })
        }
        let reported = sink.recorded.reports.compactMap { $0.services.first?.properties["v"] }
        #expect(reported == [0, 3])
        #expect(sink.recorded.statuses(of: "slow-sink-1") == [.online])
        let warnings = log.lines(containing: "slower than polling")
        #expect(warnings.count == 1, "\(log.lines)")
        #expect(warnings.first?.hasPrefix("warning reporting is slower than polling: 2 reading(s) replaced by newer ones before they were reported (2 since start)") == true,
                "\(warnings)")
    }
}
