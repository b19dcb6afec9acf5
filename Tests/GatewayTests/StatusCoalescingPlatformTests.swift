import CloudLink
import Foundation
import Logging
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// The bridge wired to a real session and pump the way `CloudService` wires them, against the
/// scripted platform on mosquitto: what the platform receives, message by message. The bridge's
/// timers run on the injected clock, so a coalescing window closes when the test says, however
/// loaded the machine is.
final class PlatformRig: @unchecked Sendable {
    let cloud: ScriptedCloud
    var platform: MosquittoScriptedPlatform { cloud.platform }
    var store: StateStore { cloud.store }
    var deviceId: String { cloud.deviceId }
    private var tasks: [Task<Void, Never>] = []
    private(set) var bridge: CloudBridge?
    let clock = ManualClock()

    init() async throws {
        cloud = try await ScriptedCloud(deviceId: "gw-status")
    }

    func start(children: [ChildDevice]) -> CloudBridge {
        let (session, pump) = (cloud.session, cloud.pump)
        let bridge = CloudBridge(gatewayDeviceId: deviceId, store: store, outbox: pump, children: children,
                                 clock: .manual(clock), logger: Logger(label: "test"))
        tasks = [
            Task { await session.run() },
            Task { await pump.run() },
            Task {
                for await state in session.stateChanges() {
                    switch state {
                    case .connected: await bridge.connected()
                    case .disconnected: await bridge.disconnected()
                    }
                }
            },
            Task { for await m in session.incoming { await bridge.received(topic: m.topic, payload: Data(m.payload)) } },
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: CloudService.tickInterval)
                    await bridge.tick()
                }
            },
        ]
        self.bridge = bridge
        return bridge
    }

    func events(_ type: String) -> [[String: Any]] { platform.events(type) }

    func statusMessageSizes() -> [Int] {
        events("sub_device_update_status").map { (($0["paras"] as? [String: Any])?["device_statuses"] as? [Any])?.count ?? 0 }
    }

    /// Closes the open coalescing window.
    func closeWindow() async {
        clock.advance(by: ChildSync<ManualClock.Instant>.statusCoalescingWindow)
        await bridge?.tick()
    }

    func stop() {
        tasks.forEach { $0.cancel() }
        platform.stop()
    }
}

@Suite(.serialized) struct StatusCoalescingPlatformTests {
    @Test func aRestartWith213ChildrenSendsTheirStatusesInThreeMessages() async throws {
        let rig = try await PlatformRig()
        defer { rig.stop() }
        #expect(await rig.platform.waitUntilConnected())
        // An earlier run added them: ids in the store, no child-list version (no notify came).
        let children = (0..<213).map {
            ChildDevice(nodeId: String(format: "m%03d", $0), deviceId: String(format: "power-meter_m%03d", $0),
                        productId: "power-meter", source: .modbus, status: .offline)
        }
        for c in children { try rig.store.upsertChild(c) }
        // The platform knows them too, so it replays them in answer to a sync without a version.
        let devices = children.map { #"{"node_id":"\#($0.nodeId)","product_id":"power-meter","device_id":"\#($0.deviceId!)"}"# }
        rig.platform.send(#"{"add_notify":{"device_id":"gw-status","devices":[\#(devices.joined(separator: ","))]}}"#)
        #expect(await Eventually.wait { rig.platform.text.contains("platform: sent") })

        let bridge = rig.start(children: children)
        #expect(await Eventually.wait(timeout: .seconds(15)) { !rig.events("sub_device_sync_request").isEmpty })
        // The replay has arrived (it carries the platform's version).
        #expect(await Eventually.wait(timeout: .seconds(15)) { (try? rig.store.subDeviceVersion()) == 213 })
        // The slaves answer, all within one window.
        for c in children { await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date()) }
        await rig.closeWindow()
        #expect(await Eventually.wait(timeout: .seconds(15)) { rig.statusMessageSizes().reduce(0, +) >= 213 })
        try await Task.sleep(for: .seconds(1))
        await rig.closeWindow()
        try await Task.sleep(for: .seconds(1))
        let sizes = rig.statusMessageSizes()
        print("figure: statuses of 213 children after a restart went out as \(sizes.count) messages: \(sizes.prefix(8))")
        #expect(sizes == [100, 100, 13])
        let entries = rig.events("sub_device_update_status").flatMap { (($0["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]]) ?? [] }
        #expect(entries.allSatisfy { $0["status"] as? String == "ONLINE" })
        #expect(rig.platform.records.allSatisfy { $0.problems.isEmpty })
    }

    @Test func thirtyChildrenAddedOnThePlatformTakeOneStatusMessage() async throws {
        let rig = try await PlatformRig()
        defer { rig.stop() }
        #expect(await rig.platform.waitUntilConnected())
        // Thirty configured children the cloud does not know yet; their slaves answer.
        let children = (0..<30).map { ChildDevice(nodeId: String(format: "n%02d", $0), productId: "power-meter", source: .modbus) }
        for c in children { try rig.store.upsertChild(c) }
        let bridge = rig.start(children: children)
        for c in children { await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date()) }
        #expect(await Eventually.wait(timeout: .seconds(15)) { !rig.events("add_sub_device_request").isEmpty })
        #expect(await Eventually.wait(timeout: .seconds(15)) { (try? rig.store.allChildren().allSatisfy { $0.deviceId != nil }) == true })
        // The console adds them as well (the platform's notify after its own add), in the same window.
        let devices = children.map { #"{"node_id":"\#($0.nodeId)","product_id":"power-meter"}"# }
        rig.platform.send(#"{"add_notify":{"device_id":"gw-status","devices":[\#(devices.joined(separator: ","))]}}"#)
        #expect(await Eventually.wait(timeout: .seconds(15)) { (try? rig.store.subDeviceVersion()) == 60 })
        await rig.closeWindow()
        #expect(await Eventually.wait(timeout: .seconds(15)) { !rig.events("sub_device_update_status").isEmpty })
        try await Task.sleep(for: .seconds(1))
        await rig.closeWindow()
        try await Task.sleep(for: .seconds(1))
        let sizes = rig.statusMessageSizes()
        print("figure: statuses of 30 added children went out as \(sizes.count) messages: \(sizes.prefix(8))")
        #expect(sizes == [30])
    }
}
