import Foundation
import Logging
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// A subsystem that answers commands as told, or never.
actor StubHandler: DownlinkHandler {
    var commands: [ChildCommand] = []
    var deadlines: [GatewayClock.Instant] = []
    let answer: DownlinkOutcome?

    init(answer: DownlinkOutcome?) { self.answer = answer }

    func handles(nodeId: String) async -> Bool { true }

    func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        commands.append(command)
        deadlines.append(deadline)
        guard let answer else {
            try? await Task.sleep(for: .seconds(3600))
            return .failure(.internalError, "unreachable")
        }
        return answer
    }

    func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                       deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        answer ?? .failure(.timeout, "never")
    }

    func getProperties(requestId: String, nodeId: String, serviceId: String?,
                       deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
        .success([ServiceReport(serviceId: "Energy", properties: ["voltage": 230.5])])
    }
}

@Suite struct CloudBridgeTests {
    let tmp = TemporaryDirectory()
    let store: StateStore
    let outbox: Outbox
    let clock = ManualClock()

    init() throws {
        store = try StateStore(directory: tmp.path)
        outbox = try Outbox(store: store)
    }

    func bridge(children: [ChildDevice]) -> CloudBridge {
        for c in children { try? store.upsertChild(c) }
        return CloudBridge(gatewayDeviceId: "gw-1", store: store, outbox: outbox, children: children, clock: .manual(clock),
                           logger: Logger(label: "test"))
    }

    func queued() throws -> [(topic: String, json: [String: Any])] {
        try outbox.pending(limit: 1000).map { entry in
            (entry.topic, try JSONSerialization.jsonObject(with: Data(entry.payload)) as? [String: Any] ?? [:])
        }
    }

    func child(_ id: String, deviceId: String? = nil) -> ChildDevice {
        ChildDevice(nodeId: id, deviceId: deviceId, productId: "power-meter", source: .modbus)
    }

    /// Children online and their ONLINE queued (data waits for it), then the outbox emptied.
    func online(_ children: [ChildDevice], on bridge: CloudBridge) async throws {
        for c in children { await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date()) }
        clock.advance(by: ChildSync<ManualClock.Instant>.statusCoalescingWindow)
        await bridge.tick()
        try outbox.delete(ids: try outbox.pending(limit: 100_000).map(\.id))
    }

    @Test func reportsBecomeBatchReportsOfAtMost100Children() async throws {
        let children = (0..<250).map { child("m\($0)", deviceId: "d\($0)") }
        let bridge = bridge(children: children)
        try await online(children, on: bridge)
        for c in children {
            await bridge.report(nodeId: c.nodeId, services: [ServiceReport(serviceId: "Energy", properties: ["voltage": 230])])
        }
        await bridge.flushReports()
        let messages = try queued()
        #expect(messages.map(\.topic) == Array(repeating: "$oc/devices/gw-1/sys/gateway/sub_devices/properties/report", count: 3))
        #expect(messages.map { ($0.json["devices"] as? [Any])?.count ?? 0 } == [100, 100, 50])
        let first = try #require((messages[0].json["devices"] as? [[String: Any]])?.first)
        #expect(first["device_id"] as? String == "d0")
    }

    @Test func aReportWaitsAtMostTheBatchWindow() async throws {
        let bridge = bridge(children: [child("m1", deviceId: "d1")])
        try await online([child("m1", deviceId: "d1")], on: bridge)
        await bridge.report(nodeId: "m1", services: [ServiceReport(serviceId: "Energy", properties: ["voltage": 1])])
        await bridge.tick()
        #expect(try queued().isEmpty)
        clock.advance(by: .milliseconds(200))
        await bridge.tick()
        #expect(try queued().count == 1)
    }

    @Test func commandIsRoutedByObjectDeviceIdAndAnsweredOnItsRequestId() async throws {
        let bridge = bridge(children: [child("m1", deviceId: "d1")])
        let handler = StubHandler(answer: .success(["state": "on"], name: "relay_response"))
        await bridge.register(handler, for: .modbus)
        let body = #"{"object_device_id":"d1","service_id":"Energy","command_name":"SET_RELAY","paras":{"on":true}}"#
        await bridge.received(topic: "$oc/devices/gw-1/sys/commands/request_id=req-42", payload: Data(body.utf8))
        #expect(await Eventually.wait(timeout: .seconds(30)) { (try? queued().count) == 1 })
        let response = try #require(try queued().first)
        #expect(response.topic == "$oc/devices/gw-1/sys/commands/response/request_id=req-42")
        #expect(response.json["result_code"] as? Int == 0)
        #expect((response.json["paras"] as? [String: Any])?["state"] as? String == "on")
        let received = await handler.commands
        #expect(received.first?.nodeId == "m1")
        #expect(received.first?.commandName == "SET_RELAY")
        // The deadline, made once when the request arrived: the platform's 20 s less the trip.
        #expect(await handler.deadlines == [clock.now.advanced(by: .seconds(19))])
        #expect(CommandRequest.responseWindow - CloudBridge.downlinkTripMargin == .seconds(19))
    }

    @Test func commandForAnUnknownChildIsRefusedAtOnce() async throws {
        let bridge = bridge(children: [child("m1", deviceId: "d1")])
        await bridge.received(topic: "$oc/devices/gw-1/sys/commands/request_id=r1",
                              payload: Data(#"{"object_device_id":"ghost","command_name":"X","paras":{}}"#.utf8))
        let response = try #require(try queued().first)
        #expect(response.topic.hasSuffix("request_id=r1"))
        #expect(response.json["result_code"] as? Int == DownlinkResultCode.unknownChild.rawValue)
        #expect((response.json["result_desc"] as? String)?.contains("ghost") == true)
    }

    @Test func aSilentChildGetsATimeoutAnswerInsideThe20SecondWindow() async throws {
        let bridge = bridge(children: [child("m1", deviceId: "d1")])
        await bridge.register(StubHandler(answer: nil), for: .modbus)
        await bridge.received(topic: "$oc/devices/gw-1/sys/commands/request_id=r2",
                              payload: Data(#"{"object_device_id":"d1","command_name":"X","paras":{}}"#.utf8))
        #expect(await Eventually.wait(timeout: .seconds(30)) { clock.sleeperCount == 1 })
        clock.advance(by: .seconds(18))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try queued().isEmpty)
        clock.advance(by: .seconds(1))
        #expect(await Eventually.wait { (try? queued().count) == 1 })
        #expect(try queued().first?.json["result_code"] as? Int == DownlinkResultCode.timeout.rawValue)
        #expect(try queued().first?.json["result_desc"] as? String == "child m1 did not answer within the platform's 20 s window")
    }

    @Test func malformedCloudInputIsAnsweredOrCountedNeverFatal() async throws {
        let bridge = bridge(children: [child("m1", deviceId: "d1")])
        await bridge.received(topic: "$oc/devices/gw-1/sys/properties/set/request_id=r3", payload: Data("{not json".utf8))
        await bridge.received(topic: "$oc/devices/gw-1/sys/events/down", payload: Data(#"{"services":[{"service_id":"$x"}]}"#.utf8))
        await bridge.received(topic: "$oc/devices/other/sys/commands/request_id=r4", payload: Data("{}".utf8))
        await bridge.received(topic: "$oc/devices/gw-1/sys/commands/request_id=r5", payload: Data(repeating: 0x7B, count: 2_000_000))
        let answers = try queued()
        #expect(answers.map(\.topic) == ["$oc/devices/gw-1/sys/properties/set/response/request_id=r3",
                                         "$oc/devices/gw-1/sys/commands/response/request_id=r5"])
        #expect(answers.allSatisfy { $0.json["result_code"] as? Int == DownlinkResultCode.badRequest.rawValue })
        #expect(await bridge.counters.badDownlink == 4)
    }

    @Test func connectSendsSyncAndAddsAndNotifiesAreStored() async throws {
        let bridge = bridge(children: [child("m1"), child("m2", deviceId: "d2")])
        try store.setSubDeviceVersion(5)
        let restarted = CloudBridge(gatewayDeviceId: "gw-1", store: store, outbox: outbox,
                                    children: [child("m1"), child("m2", deviceId: "d2")], clock: .manual(clock), logger: Logger(label: "t"))
        _ = bridge
        await restarted.statusChanged(nodeId: "m2", status: .online, at: Date())
        await restarted.connected()
        clock.advance(by: .seconds(1))
        await restarted.tick()
        let events = try queued().compactMap { ($0.json["services"] as? [[String: Any]])?.first }
        #expect(events.map { $0["event_type"] as? String } == ["sub_device_sync_request", "add_sub_device_request", "sub_device_update_status"])
        #expect((events[0]["paras"] as? [String: Any])?["version"] as? Int == 5)
        let notify = #"{"services":[{"service_id":"$sub_device_manager","event_type":"add_sub_device_notify","paras":{"devices":[{"parent_device_id":"gw-1","node_id":"m1","device_id":"power-meter_m1"}],"version":6}}]}"#
        await restarted.received(topic: "$oc/devices/gw-1/sys/events/down", payload: Data(notify.utf8))
        #expect(try store.child(nodeId: "m1")?.deviceId == "power-meter_m1")
        #expect(try store.subDeviceVersion() == 6)
    }
}
