import Foundation
import Logging
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// Records what a property set hands to the field side.
actor RecordingSetHandler: DownlinkHandler {
    var sets: [[ServiceReport]] = []

    func handles(nodeId: String) async -> Bool { true }
    func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome { .success() }
    func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                       deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        sets.append(services)
        return .success()
    }
    func getProperties(requestId: String, nodeId: String, serviceId: String?,
                       deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
        .success([])
    }
}

/// A child's life as the cloud sees it (issue 11): what the bridge queues for the cloud, in
/// order, with the injected clock. Nothing is drained, so the outbox holds every message.
@Suite struct ChildLifecycleTests {
    let tmp = TemporaryDirectory()
    let store: StateStore
    let outbox: Outbox
    let clock = ManualClock()
    static let down = "$oc/devices/gw-1/sys/events/down"

    init() throws {
        store = try StateStore(directory: tmp.path)
        outbox = try Outbox(store: store)
    }

    func bridge(_ children: [ChildDevice]) -> CloudBridge {
        for c in children { try? store.upsertChild(c) }
        return CloudBridge(gatewayDeviceId: "gw-1", store: store, outbox: outbox, children: children, clock: .manual(clock),
                           logger: Logger(label: "test"))
    }

    func child(_ id: String, deviceId: String? = nil, stored status: ChildStatus = .offline) -> ChildDevice {
        ChildDevice(nodeId: id, deviceId: deviceId, productId: "power-meter", source: .modbus, status: status)
    }

    /// One queued message: a status update, a batch report, or anything else.
    enum Queued: Equatable {
        case status([String: String])
        case report([String])
        case event(String)
    }

    func queued() throws -> [Queued] {
        try outbox.pending(limit: 100_000).map { entry in
            let json = try JSONSerialization.jsonObject(with: Data(entry.payload)) as? [String: Any] ?? [:]
            if entry.topic.hasSuffix("/sys/gateway/sub_devices/properties/report") {
                return .report((json["devices"] as? [[String: Any]] ?? []).compactMap { $0["device_id"] as? String })
            }
            if entry.topic.hasSuffix("/sys/messages/up") { return .event(json["name"] as? String ?? entry.topic) }
            let service = (json["services"] as? [[String: Any]])?.first ?? [:]
            let type = service["event_type"] as? String ?? entry.topic
            if type == "sub_device_update_status" {
                let entries = (service["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]] ?? []
                return .status(Dictionary(entries.map { ($0["device_id"] as? String ?? "", $0["status"] as? String ?? "") },
                                          uniquingKeysWith: { _, b in b }))
            }
            return .event(type)
        }
    }

    func statusMessages(_ q: [Queued]) -> [[String: String]] {
        q.compactMap { if case .status(let s) = $0 { s } else { nil } }
    }

    /// Lets the coalescing and batch windows close.
    func pass(_ bridge: CloudBridge, seconds: Int = 2) async {
        for _ in 0..<(seconds * 10) {
            clock.advance(by: .milliseconds(100))
            await bridge.tick()
        }
    }

    func notify(_ type: String, _ devices: [[String: String]], version: Int) -> Data {
        let list = devices.map { d in "{" + d.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}" }
        return Data(#"{"services":[{"service_id":"$sub_device_manager","event_type":"\#(type)","paras":{"devices":[\#(list.joined(separator: ","))],"version":\#(version)}}]}"#.utf8)
    }

    let energy = [ServiceReport(serviceId: "Energy", properties: ["voltage": 230])]

    // MARK: - Item 1

    @Test func aChildThePlatformDeletedSendsNothingUntilItIsAddedAgain() async throws {
        let bridge = bridge([child("m1", deviceId: "d1"), child("m2", deviceId: "d2")])
        await bridge.connected()
        await bridge.statusChanged(nodeId: "m1", status: .online, at: Date())
        await bridge.statusChanged(nodeId: "m2", status: .online, at: Date())
        await pass(bridge)
        await bridge.report(nodeId: "m1", services: energy)   // still in the batch window when the delete comes
        await bridge.report(nodeId: "m2", services: energy)
        let beforeDelete = try queued().count

        await bridge.received(topic: Self.down, payload: notify("delete_sub_device_notify", [["device_id": "d1", "node_id": "m1"]], version: 2))
        for _ in 0..<5 {
            await bridge.report(nodeId: "m1", services: energy)
            await bridge.report(nodeId: "m2", services: energy)
            await pass(bridge, seconds: 1)
        }
        await bridge.message(nodeId: "m1", name: "command_result", id: "r1", content: [:], at: Date())
        await bridge.statusChanged(nodeId: "m1", status: .offline, at: Date())
        await pass(bridge)
        await bridge.flushReports()

        let after = Array(try queued()[beforeDelete...])
        let mentionsM1 = after.filter {
            switch $0 {
            case .report(let ids): ids.contains("d1") || ids.contains("power-meter_m1")
            case .status(let s): s["d1"] != nil || s["power-meter_m1"] != nil
            case .event(let type): type == "command_result"
            }
        }
        #expect(mentionsM1.isEmpty, "after delete_sub_device_notify the gateway still sent \(mentionsM1.count) message(s) about m1")
        #expect(after.contains { if case .report(let ids) = $0 { ids.contains("d2") } else { false } })

        // Added again (on the console): its status goes first, then its data, under the new id.
        await bridge.received(topic: Self.down, payload: notify("add_sub_device_notify", [["device_id": "d1-new", "node_id": "m1"]], version: 3))
        await bridge.statusChanged(nodeId: "m1", status: .online, at: Date())
        await bridge.report(nodeId: "m1", services: energy)
        await pass(bridge)
        let readded = Array(try queued()[beforeDelete...])
        let online = readded.firstIndex { if case .status(let s) = $0 { s["d1-new"] == "ONLINE" } else { false } }
        let data = readded.firstIndex { if case .report(let ids) = $0 { ids.contains("d1-new") } else { false } }
        #expect(online != nil && data != nil && online! < data!)
    }

    // MARK: - Item 2

    @Test func aChildWhoseStateIsNotKnownIsNotReportedOfflineAndItsOnlineGoesBeforeItsData() async throws {
        // After a restart: ids and (stale) statuses in the store; ten slaves answer, one does not yet.
        let children = (0..<11).map { child("m\($0)", deviceId: "d\($0)", stored: .offline) }
        let bridge = bridge(children)
        await bridge.connected()
        for i in 0..<10 {
            // The Modbus service's order: the status change, then the values of the same cycle.
            await bridge.statusChanged(nodeId: "m\(i)", status: .online, at: Date())
            await bridge.report(nodeId: "m\(i)", services: energy)
            clock.advance(by: .milliseconds(50))
            await bridge.tick()
        }
        await pass(bridge, seconds: 3)
        await bridge.flushReports()
        let q = try queued()
        let statuses = statusMessages(q)
        let offline = statuses.flatMap { $0.filter { $0.value == "OFFLINE" }.map(\.key) }
        #expect(offline.isEmpty, "OFFLINE published for children whose state was not known: \(offline.sorted())")
        var reportsBeforeOnline: [String] = []
        for i in 0..<10 {
            let online = q.firstIndex { if case .status(let s) = $0 { s["d\(i)"] == "ONLINE" } else { false } }
            let data = q.firstIndex { if case .report(let ids) = $0 { ids.contains("d\(i)") } else { false } }
            if let data, online == nil || data < online! { reportsBeforeOnline.append("d\(i)") }
            #expect(data != nil, "no data for d\(i)")
        }
        #expect(reportsBeforeOnline.isEmpty, "property reports before ONLINE for \(reportsBeforeOnline)")
        #expect(statuses.allSatisfy { $0["d10"] == nil }, "the silent child was reported before its state was known")

        // Once the field says it is offline, it is reported.
        await bridge.statusChanged(nodeId: "m10", status: .offline, at: Date())
        await pass(bridge)
        #expect(statusMessages(try queued()).last == ["d10": "OFFLINE"])
    }

    // MARK: - Item 3

    @Test func statusesOf213ChildrenAfterARestartGoOutInThreeMessages() async throws {
        let children = (0..<213).map { child(String(format: "m%03d", $0), deviceId: String(format: "d%03d", $0)) }
        let bridge = bridge(children)
        // Half the slaves answered before the link came up, the rest just after.
        for c in children.prefix(100) { await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date()) }
        await bridge.connected()
        // The platform answers the sync request (no version stored) with every child it has.
        let all = children.map { ["node_id": $0.nodeId, "device_id": $0.deviceId!] }
        await bridge.received(topic: Self.down, payload: notify("add_sub_device_notify", all, version: 213))
        for c in children.dropFirst(100) {
            await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date())
            clock.advance(by: .milliseconds(2))
            await bridge.tick()
        }
        await pass(bridge, seconds: 3)
        let sizes = statusMessages(try queued()).map(\.count)
        #expect(sizes == [100, 100, 13], "213 statuses went out as \(sizes.count) messages: \(sizes.prefix(12))")
    }

    @Test func thirtyChildrenAddedTakeOneStatusMessage() async throws {
        let children = (0..<30).map { child(String(format: "n%02d", $0)) }
        let bridge = bridge(children)
        for c in children { await bridge.statusChanged(nodeId: c.nodeId, status: .online, at: Date()) }
        await bridge.connected()
        let request = try #require(try outbox.pending(limit: 100).compactMap { entry -> String? in
            let json = try JSONSerialization.jsonObject(with: Data(entry.payload)) as? [String: Any]
            let service = (json?["services"] as? [[String: Any]])?.first
            return service?["event_type"] as? String == "add_sub_device_request" ? service?["event_id"] as? String : nil
        }.first)
        let ok = children.map { #"{"node_id":"\#($0.nodeId)","device_id":"power-meter_\#($0.nodeId)"}"# }.joined(separator: ",")
        let response = #"{"services":[{"service_id":"$sub_device_manager","event_type":"add_sub_device_response","event_id":"\#(request)","paras":{"successful_devices":[\#(ok)],"failed_devices":[]}}]}"#
        await bridge.received(topic: Self.down, payload: Data(response.utf8))
        // The platform also tells the gateway (its sync answer, or the console's add).
        let added = children.map { ["node_id": $0.nodeId, "device_id": "power-meter_\($0.nodeId)"] }
        await bridge.received(topic: Self.down, payload: notify("add_sub_device_notify", added, version: 30))
        await pass(bridge, seconds: 3)
        let sizes = statusMessages(try queued()).map(\.count)
        #expect(sizes == [30], "30 statuses went out as \(sizes.count) messages: \(sizes.prefix(12))")
    }

    // MARK: - Item 9

    @Test func aPropertySetNamingOneService500TimesIsMergedIntoOne() async throws {
        let bridge = bridge([child("m1", deviceId: "d1")])
        let handler = RecordingSetHandler()
        await bridge.register(handler, for: .modbus)
        let service = #"{"service_id":"Energy","properties":{"setpoint":7}}"#
        let services = Array(repeating: service, count: 499) + [#"{"service_id":"Energy","properties":{"setpoint":8,"relay":true}}"#]
        let body = #"{"object_device_id":"d1","services":[\#(services.joined(separator: ","))]}"#
        await bridge.received(topic: "$oc/devices/gw-1/sys/properties/set/request_id=ps500", payload: Data(body.utf8))
        #expect(await Eventually.wait(timeout: .seconds(30)) { await handler.sets.count == 1 })
        let set = try #require(await handler.sets.first)
        #expect(set.count == 1, "the handler was given \(set.count) services")
        #expect(set.first?.properties == ["setpoint": 8, "relay": true])
    }

    @Test func aPropertySetOverTheBoundIsRefusedWithoutTouchingTheDevice() async throws {
        let bridge = bridge([child("m1", deviceId: "d1")])
        let handler = RecordingSetHandler()
        await bridge.register(handler, for: .modbus)
        let services = (0..<1000).map { #"{"service_id":"S\#($0)","properties":{"p":1}}"# }
        let body = #"{"object_device_id":"d1","services":[\#(services.joined(separator: ","))]}"#
        await bridge.received(topic: "$oc/devices/gw-1/sys/properties/set/request_id=big", payload: Data(body.utf8))
        #expect(await Eventually.wait { outbox.count > 0 })
        let answer = try #require(try outbox.pending(limit: 10).first)
        #expect(answer.topic.hasSuffix("properties/set/response/request_id=big"))
        let json = try JSONSerialization.jsonObject(with: Data(answer.payload)) as? [String: Any]
        #expect(json?["result_code"] as? Int == DownlinkResultCode.badRequest.rawValue)
        #expect((json?["result_desc"] as? String)?.contains("1000") == true, "\(json ?? [:])")
        #expect((json?["result_desc"] as? String)?.contains("at most \(PropertiesSetRequest.maxProperties)") == true)
        #expect(await handler.sets.isEmpty)
    }

    // MARK: - Held data is bounded

    @Test func dataOfAChildWithoutOnlineIsHeldBoundedAndFollowsItsOnline() async throws {
        let bridge = bridge([child("m1", deviceId: "d1")])
        await bridge.connected()
        let limit = CloudBridge.maxHeldReportsPerChild
        for i in 0..<(limit + 36) {
            await bridge.report(nodeId: "m1", services: [ServiceReport(serviceId: "Energy", properties: ["n": .int(Int64(i))])])
        }
        await pass(bridge)
        #expect(try queued().allSatisfy { if case .report = $0 { false } else { true } })
        #expect(await bridge.counters.heldReportsDropped == 36)
        await bridge.statusChanged(nodeId: "m1", status: .online, at: Date())
        await pass(bridge)
        let entries = try outbox.pending(limit: 1000)
        let status = try #require(entries.firstIndex { String(decoding: $0.payload, as: UTF8.self).contains("sub_device_update_status") })
        let report = try #require(entries.firstIndex { $0.topic.hasSuffix("/sub_devices/properties/report") })
        #expect(status < report)
        // The newest `limit` readings, oldest first.
        let text = entries[report...].map { String(decoding: $0.payload, as: UTF8.self) }.joined()
        #expect(text.components(separatedBy: #""n":"#).count - 1 == limit)
        #expect(text.contains(#""n":36}"#) && !text.contains(#""n":35}"#))
    }

    @Test func aPropertyGetAnswerCarriesTheSecondFormOfEventTime() async throws {
        let bridge = bridge([child("m1", deviceId: "d1")])
        actor Values: DownlinkHandler {
            func handles(nodeId: String) async -> Bool { true }
            func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome { .success() }
            func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                       deadline: GatewayClock.Instant) async -> DownlinkOutcome { .success() }
            func getProperties(requestId: String, nodeId: String, serviceId: String?,
                       deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
                .success([ServiceReport(serviceId: "Energy", properties: ["v": 1], eventTime: Date(timeIntervalSince1970: 1_597_234_332.333))])
            }
        }
        await bridge.register(Values(), for: .modbus)
        await bridge.received(topic: "$oc/devices/gw-1/sys/properties/get/request_id=g1", payload: Data(#"{"object_device_id":"d1"}"#.utf8))
        #expect(await Eventually.wait(timeout: .seconds(30)) { outbox.count > 0 })
        let answer = String(decoding: try #require(try outbox.pending(limit: 1).first).payload, as: UTF8.self)
        #expect(answer.contains(#""event_time":"20200812T121212Z""#), "\(answer)")
    }
}
