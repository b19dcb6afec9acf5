import CloudLink
import Foundation
import Logging
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// Field reports through the bridge, the outbox, the pump and a real broker to the scripted
/// platform, which checks every message against the platform's rules.
@Suite struct CloudPathTests {
    @Test func reportsOf250ChildrenArriveAsBatchesOfAtMost100() async throws {
        let cloud = try await ScriptedCloud(deviceId: "gw-path")
        let (platform, store, outbox, session, pump) = (cloud.platform, cloud.store, cloud.outbox, cloud.session, cloud.pump)
        #expect(await platform.waitUntilConnected())

        let children = (0..<250).map { ChildDevice(nodeId: "m\($0)", deviceId: "d\($0)", productId: "power-meter", source: .modbus) }
        let manual = ManualClock()
        let bridge = CloudBridge(gatewayDeviceId: "gw-path", store: store, outbox: pump, children: children,
                                 clock: .manual(manual), logger: Logger(label: "test"))
        let running = [Task { await session.run() }, Task { await pump.run() }]
        defer { running.forEach { $0.cancel() } }

        // Data follows the children's ONLINE (UG 3.10).
        for child in children { await bridge.statusChanged(nodeId: child.nodeId, status: .online, at: Date()) }
        manual.advance(by: ChildSync<GatewayClock.Instant>.statusCoalescingWindow)
        await bridge.tick()
        for child in children {
            await bridge.report(nodeId: child.nodeId, services: [ServiceReport(serviceId: "meter", properties: ["voltage": 230.1])])
        }
        await bridge.flushReports()

        func batches() -> [Int] {
            platform.records.filter { $0.topic.hasSuffix("/sys/gateway/sub_devices/properties/report") }.map { record in
                let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any]
                return (json?["devices"] as? [Any])?.count ?? 0
            }
        }
        #expect(await Eventually.wait(timeout: .seconds(15)) { batches().reduce(0, +) == 250 })
        #expect(batches() == [100, 100, 50])
        #expect(platform.records.allSatisfy { $0.problems.isEmpty })
        #expect(await Eventually.wait { outbox.count == 0 })
        platform.stop()
    }
}
