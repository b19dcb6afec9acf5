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
        let platformPassword = "p-" + UUID().uuidString
        let broker = try await MosquittoBroker(users: [.init(name: "gw-path", password: "pw"), .platform(password: platformPassword)])
        try await broker.start()
        let platform = try MosquittoScriptedPlatform(broker: broker, password: platformPassword)
        #expect(await platform.waitUntilConnected())

        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        let outbox = try Outbox(store: store)
        let topics = IoTDATopics(deviceId: "gw-path")
        let session = CloudSession(settings: CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain,
                                                                  subscriptions: topics.downlinkSubscriptions)) {
            CloudCredentials(clientId: "gw-path_0_0_2026112216", username: "gw-path", password: "pw")
        }
        let pump = OutboxPump(outbox: outbox, session: session, settings: .unshaped, store: store)
        let children = (0..<250).map { ChildDevice(nodeId: "m\($0)", deviceId: "d\($0)", productId: "power-meter", source: .modbus) }
        let bridge = CloudBridge(gatewayDeviceId: "gw-path", store: store, outbox: pump, children: children,
                                 clock: ContinuousClock(), logger: Logger(label: "test"))
        let running = [Task { await session.run() }, Task { await pump.run() }]
        defer { running.forEach { $0.cancel() } }

        // Data follows the children's ONLINE (UG 3.10).
        for child in children { await bridge.statusChanged(nodeId: child.nodeId, status: .online, at: Date()) }
        try await Task.sleep(for: ChildSync<ContinuousClock.Instant>.statusCoalescingWindow)
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
