import CloudLink
import Foundation
import Logging
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// A command for a sleeping NB-IoT module from the scripted platform, through the bridge, the
/// LwM2M service with the water meter's codec and a simulated module, and back: the platform
/// checks every uplink against its rules.
@Suite(.serialized) struct LwM2MCloudPathTests {
    static let node = "861234567890555"

    @Test func theLaterOutcomeOfAQueuedCommandReachesThePlatformAsADeviceMessage() async throws {
        let cloud = try await ScriptedCloud(deviceId: "gw-nb")
        let (platform, store, session, pump) = (cloud.platform, cloud.store, cloud.session, cloud.pump)
        defer { platform.stop() }
        #expect(await platform.waitUntilConnected())

        let deviceId = "water-meter_\(Self.node)"
        let child = ChildDevice(nodeId: Self.node, deviceId: deviceId, productId: "water-meter", source: .lwm2m)
        try store.upsertChild(child)
        // One manual clock for the bridge and the service: the 17 s of "queued" pass at once.
        let manual = ManualClock()
        let clock = GatewayClock.manual(manual)
        let bridge = CloudBridge(gatewayDeviceId: "gw-nb", store: store, outbox: pump, children: [child],
                                 clock: clock, logger: Logger(label: "test"))

        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let port = FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: Self.node, productId: "water-meter", psk: key)])
        let codecs = ProductCodecs.load(productsDirectory: Paths.packageRoot + "/etc/edgegw/products").codecs
        let service = LwM2MService(server: LwM2MServer(settings: serverSettings, directory: directory), directory: directory,
                                   decoder: codecs, encoder: codecs, sink: bridge,
                                   clock: clock)
        await bridge.register(service, for: .lwm2m)
        let running: [Task<Void, Never>] = [
            Task { await session.run() }, Task { await pump.run() }, Task { _ = try? await service.run() },
            Task { for await message in session.incoming { await bridge.received(topic: message.topic, payload: Data(message.payload)) } },
        ]
        defer { running.forEach { $0.cancel() } }

        let simulator = NBIoTDeviceSimulator(serverPort: port)
        try simulator.start()
        defer { simulator.stop() }
        let device = simulator.add(.init(endpoint: Self.node, psk: key))
        // The server binds inside run(): register until it observes.
        #expect(await Self.registerUntilObserved(device, on: simulator))

        #expect(await Eventually.wait { if case .connected = session.state { true } else { false } })
        let sleepers = manual.sleeperCount // the service's tick
        // A cached command: the module sleeps until its next report, so the platform hears "queued" (7).
        platform.send(#"{"command": {"device_id": "gw-nb", "object_device_id": "\#(deviceId)", "service_id": "DeviceInfo", "command_name": "SET_LABEL", "paras": {"label": "pump house 3", "send_strategy": "delay"}}}"#)
        func response() -> String? {
            platform.records.first { $0.topic.contains("/sys/commands/response/") }?.payload
        }
        // The bridge's deadline and the service's "queued" wait on the clock: 17 s later, "queued".
        #expect(await Eventually.wait(timeout: .seconds(10)) { manual.sleeperCount == sleepers + 2 })
        manual.advance(by: CommandRequest.responseWindow - CloudBridge.downlinkTripMargin - LwM2MService.queuedAnswerLead)
        let answered = await Eventually.wait(timeout: .seconds(10)) { response() != nil }
        let counters = await bridge.counters
        #expect(answered, "\(platform.text) \(platform.records.map(\.topic)) \(counters) \(session.statistics)")
        #expect(response()?.contains("\"result_code\":7") == true, "\(response() ?? "")")

        // The next report takes the command; its ACK ends it (SET_LABEL declares no response).
        simulator.notify(device, payload: [0x01, 0x04, 0xD2, 0x00, 0x01, 0xE2, 0x40, 0x00, 0xEB, 0x3F, 0x80, 0x00, 0x00])
        func message() -> [String: Any]? {
            platform.records.first { $0.topic == "$oc/devices/gw-nb/sys/messages/up" }
                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any] }
        }
        #expect(await Eventually.wait(timeout: .seconds(10)) { message() != nil }, "\(platform.records.map(\.topic))")
        let late = try #require(message())
        #expect(late["object_device_id"] as? String == deviceId)
        #expect(late["name"] as? String == LwM2MService.commandResultMessageName)
        let content = late["content"] as? [String: Any]
        #expect(content?["command_name"] as? String == "SET_LABEL")
        #expect(content?["status"] as? String == "DELIVERED")
        #expect(content?["result_code"] as? Int == 0)
        #expect(late["id"] as? String == content?["request_id"] as? String)
        #expect(!platform.records.contains { $0.topic.hasSuffix("/sys/events/up") && $0.payload.contains("$lwm2m") })
        #expect(platform.records.allSatisfy { $0.problems.isEmpty }, "\(platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
    }

    /// SIGTERM in the daemon's order, in process: the LwM2M service's graceful stop, then the
    /// cloud's flush and drain. A report the server had received while the bridge was still busy
    /// with the one before reaches the platform.
    @Test func aReportInFlightWhenTheGatewayStopsReachesThePlatform() async throws {
        let cloud = try await ScriptedCloud(deviceId: "gw-stop")
        let (platform, store, session, pump) = (cloud.platform, cloud.store, cloud.session, cloud.pump)
        defer { platform.stop() }
        #expect(await platform.waitUntilConnected())
        let node = "861234567890556"
        let deviceId = "water-meter_\(node)"
        let child = ChildDevice(nodeId: node, deviceId: deviceId, productId: "water-meter", source: .lwm2m)
        try store.upsertChild(child)
        let manual = ManualClock()
        let clock = GatewayClock.manual(manual, epoch: Date())
        let bridge = CloudBridge(gatewayDeviceId: "gw-stop", store: store, outbox: pump, children: [child],
                                 clock: clock, logger: Logger(label: "test"))
        let sink = GatedSink(bridge)

        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let port = FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: node, productId: "water-meter", psk: key)])
        let codecs = ProductCodecs.load(productsDirectory: Paths.packageRoot + "/etc/edgegw/products").codecs
        let server = LwM2MServer(settings: serverSettings, directory: directory)
        let service = LwM2MService(server: server, directory: directory, decoder: codecs, encoder: codecs, sink: sink, clock: clock)
        let running: [Task<Void, Never>] = [Task { await session.run() }, Task { await pump.run() }]
        defer { running.forEach { $0.cancel() } }
        let serving = Task { try await service.run() }

        let simulator = NBIoTDeviceSimulator(serverPort: port)
        try simulator.start()
        defer { simulator.stop() }
        let device = simulator.add(.init(endpoint: node, psk: key))
        #expect(await Self.registerUntilObserved(device, on: simulator))
        // The child's ONLINE goes first (UG 3.10), then its data.
        #expect(await Eventually.wait { if case .connected = session.state { true } else { false } })
        await bridge.connected()
        manual.advance(by: .seconds(1))
        await bridge.tick()

        // flow 12.34, then 23.45: the first waits in the sink while the second is in the server's events.
        await sink.close()
        simulator.notify(device, payload: [0x01, 0x04, 0xD2, 0x00, 0x01, 0xE2, 0x40, 0x00, 0xEB, 0x3F, 0x80, 0x00, 0x00])
        #expect(await Eventually.wait { await sink.waiting == 1 })
        simulator.notify(device, payload: [0x01, 0x09, 0x29, 0x00, 0x01, 0xE2, 0x40, 0x00, 0xEB, 0x3F, 0x80, 0x00, 0x00])
        #expect(await Eventually.wait { server.counters.notifications == 2 })
        let finishing = Task { await service.finish() }
        try await Task.sleep(for: .milliseconds(100))
        await sink.open()
        await finishing.value
        try await serving.value
        await bridge.flushReports()
        _ = await pump.drainBeforeStop(timeout: .seconds(5))

        func reported(_ flow: String) -> Bool {
            platform.records.contains { $0.topic.hasSuffix("/sub_devices/properties/report") && $0.payload.contains(deviceId)
                && $0.payload.contains("\"flow\":\(flow)") }
        }
        #expect(await Eventually.wait(timeout: .seconds(5)) { reported("12.34") && reported("23.45") },
                "\(platform.records.map(\.topic))")
        #expect(platform.records.allSatisfy { $0.problems.isEmpty }, "\(platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
    }
}

/// The bridge as the LwM2M service's sink, with a gate: while closed, reports wait (a report in
/// flight); statuses and messages pass.
actor GatedSink: UplinkSink {
    let bridge: CloudBridge
    private var gate: [CheckedContinuation<Void, Never>]?

    init(_ bridge: CloudBridge) { self.bridge = bridge }

    func close() { gate = gate ?? [] }
    func open() {
        let waiting = gate ?? []
        gate = nil
        waiting.forEach { $0.resume() }
    }
    var waiting: Int { gate?.count ?? 0 }

    func report(nodeId: String, services: [ServiceReport]) async {
        if gate != nil { await withCheckedContinuation { gate?.append($0) } }
        await bridge.report(nodeId: nodeId, services: services)
    }
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {
        await bridge.statusChanged(nodeId: nodeId, status: status, at: time)
    }
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {
        await bridge.message(nodeId: nodeId, name: name, id: id, content: content, at: time)
    }
}

extension LwM2MCloudPathTests {
    /// Registers the simulated module until the server observes it (the server binds inside
    /// `run()`, so the first attempts may find no one listening).
    static func registerUntilObserved(_ device: Int, on simulator: NBIoTDeviceSimulator) async -> Bool {
        let observed = Locked(false)
        let events = simulator.events
        let watcher = Task { for await event in events { if case .observed = event { observed.withLock { $0 = true } } } }
        defer { watcher.cancel() }
        for _ in 0..<40 where !observed.withLock({ $0 }) {
            simulator.register(device)
            _ = await Eventually.wait(timeout: .milliseconds(250)) { observed.withLock { $0 } }
        }
        return observed.withLock { $0 }
    }
}
