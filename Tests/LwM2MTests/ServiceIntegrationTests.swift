import Foundation
import GatewayCore
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// A toy codec: 01 vv = report of `value`; 02 mh ml rr = result for mid (rr 0 = ok); commands are 10 mh ml.
struct ToyCodec: UplinkPayloadHandler, DownlinkEncoder {
    func decodeUplink(nodeId: String, productId: String, payload: [UInt8]) -> UplinkDecoding {
        switch payload.first {
        case 0x01 where payload.count == 2:
            return .report([ServiceReport(serviceId: "Meter", properties: ["value": .int(Int64(payload[1]))])], response: [0xAA])
        case 0x02 where payload.count == 4:
            return .commandResponse(mid: UInt16(payload[1]) << 8 | UInt16(payload[2]), success: payload[3] == 0, paras: ["rc": .int(Int64(payload[3]))])
        default:
            return .undecodable("unknown message")
        }
    }

    func encodeCommand(_ command: ChildCommand, productId: String, mid: UInt16) throws -> [UInt8] {
        [0x10, UInt8(mid >> 8), UInt8(mid & 0xFF)]
    }

    /// The simulated device answers every command with success.
    static let responder: @Sendable (Int, [UInt8]) -> [UInt8]? = { _, payload in
        payload.first == 0x10 && payload.count == 3 ? [0x02, payload[1], payload[2], 0x00] : nil
    }
}

actor RecordingSink: UplinkSink {
    var reports: [(String, [ServiceReport])] = []
    var statuses: [(String, ChildStatus)] = []
    var events: [(String, String, JSONObject)] = []

    func report(nodeId: String, services: [ServiceReport]) async { reports.append((nodeId, services)) }
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async { statuses.append((nodeId, status)) }
    func event(nodeId: String, serviceId: String, eventType: String, paras: JSONObject, at time: Date) async {
        events.append((nodeId, eventType, paras))
    }
}

actor MemoryCommandStore: CommandQueueStore {
    var commands: [String: QueuedCommand] = [:]
    func save(_ command: QueuedCommand) async throws { commands[command.requestId] = command }
    func remove(requestId: String) async throws { commands[requestId] = nil }
    func loadAll() async throws -> [QueuedCommand] { Array(commands.values) }
}

@Suite(.serialized) struct ServiceIntegrationTests {
    static let node = "861234567890200"

    struct Rig {
        let service: LwM2MService
        let task: Task<Void, Error>
        let sink: RecordingSink
        let simulator: NBIoTDeviceSimulator
        let deviceEvents: EventRecorder<NBIoTDeviceSimulator.Event>
        let device: Int

        func stop() async {
            simulator.stop()
            task.cancel()
            _ = try? await task.value
        }
    }

    static func rig(key: [UInt8], store: CommandQueueStore? = nil, lifetime: Int = 300, port: UInt16? = nil,
                    sink: RecordingSink = RecordingSink(), settings: LwM2MServiceSettings) async throws -> Rig {
        let port = port ?? FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: node, productId: "meter", psk: key)])
        let server = LwM2MServer(settings: serverSettings, directory: directory)
        let service = LwM2MService(server: server, directory: directory, decoder: ToyCodec(), encoder: ToyCodec(), sink: sink,
                                   store: store, settings: settings)
        let task = Task { try await service.run() }
        let simulator = NBIoTDeviceSimulator(serverPort: port, responder: ToyCodec.responder)
        let deviceEvents = EventRecorder(simulator.events)
        try simulator.start()
        let device = simulator.add(.init(endpoint: node, psk: key, lifetime: lifetime))
        // The server binds inside run(): retry Register until it answers.
        for _ in 0..<50 {
            simulator.register(device)
            if await deviceEvents.first(timeout: .milliseconds(100), where: { if case .observed = $0 { true } else { nil } }) == true { break }
        }
        return Rig(service: service, task: task, sink: sink, simulator: simulator, deviceEvents: deviceEvents, device: device)
    }

    static func key() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    @Test func reportBecomesPropertiesAndGetsTheReportResponse() async throws {
        let rig = try await Self.rig(key: Self.key(), settings: LwM2MServiceSettings())
        rig.simulator.notify(rig.device, payload: [0x01, 42])
        let reported = await Eventually.wait { await rig.sink.reports.count == 1 }
        #expect(reported)
        let report = await rig.sink.reports.first
        #expect(report?.0 == Self.node)
        #expect(report?.1 == [ServiceReport(serviceId: "Meter", properties: ["value": 42])])
        let response = await rig.deviceEvents.first { if case .downlink(_, let path, _, let payload) = $0 { (path, payload) } else { nil } }
        #expect(response?.0 == "/19/1/0")
        #expect(response?.1 == [0xAA])
        #expect(await rig.sink.statuses.first?.1 == .online)
        await rig.stop()
    }

    @Test func cachedCommandIsDeliveredOnTheNextReportAndSucceeds() async throws {
        let settings = LwM2MServiceSettings(awakeWindow: 0.1, commandWindow: 10)
        let rig = try await Self.rig(key: Self.key(), settings: settings)
        try await Task.sleep(for: .milliseconds(200)) // the device is in PSM now
        let command = ChildCommand(requestId: "r1", nodeId: Self.node, serviceId: "Valve", commandName: "OPEN", paras: [:])
        async let outcome = rig.service.command(command)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await rig.deviceEvents.first(timeout: .milliseconds(1)) { if case .downlink = $0 { true } else { nil } } == nil)
        rig.simulator.notify(rig.device, payload: [0x01, 7])
        let result = await outcome
        #expect(result.resultCode == 0)
        #expect(result.paras["rc"] == .int(0))
        await rig.stop()
    }

    @Test func immediateCommandToASleepingDeviceFails() async throws {
        let rig = try await Self.rig(key: Self.key(), settings: LwM2MServiceSettings(awakeWindow: 0.1))
        rig.simulator.sleep(rig.device)
        try await Task.sleep(for: .milliseconds(200))
        let command = ChildCommand(requestId: "r2", nodeId: Self.node, serviceId: "Valve", commandName: "OPEN",
                                   paras: ["send_strategy": "immediately"])
        let outcome = await rig.service.command(command)
        #expect(outcome.resultCode == DownlinkResultCode.deviceUnreachable.rawValue)
        await rig.stop()
    }

    @Test func lifetimeExpiryReportsOffline() async throws {
        let rig = try await Self.rig(key: Self.key(), lifetime: 1, settings: LwM2MServiceSettings())
        let offline = await Eventually.wait(timeout: .seconds(4)) { await rig.sink.statuses.contains { $0.1 == .offline } }
        #expect(offline)
        #expect(await rig.sink.statuses.map(\.1) == [.online, .offline])
        await rig.stop()
    }

    @Test func queuedCommandSurvivesARestartAndReportsItsResultLater() async throws {
        let key = Self.key()
        let store = MemoryCommandStore()
        let port = FreePort.next(udp: true)
        let settings = LwM2MServiceSettings(awakeWindow: 0.1, commandWindow: 0.3)
        let first = try await Self.rig(key: key, store: store, port: port, settings: settings)
        try await Task.sleep(for: .milliseconds(200))
        let outcome = await first.service.command(ChildCommand(requestId: "r3", nodeId: Self.node, serviceId: "Valve",
                                                               commandName: "CLOSE", paras: [:]))
        #expect(outcome.resultCode == DownlinkResultCode.queued.rawValue)
        #expect(outcome.paras["status"] == "PENDING")
        await first.stop()
        #expect(await store.commands["r3"]?.state == .pending)

        let sink = RecordingSink()
        let second = try await Self.rig(key: key, store: store, port: port, sink: sink, settings: settings)
        let reported = await Eventually.wait { await sink.events.contains { $0.2["request_id"] == "r3" } }
        #expect(reported)
        let event = await sink.events.first { $0.2["request_id"] == "r3" }
        #expect(event?.1 == LwM2MService.commandResultEventType)
        #expect(event?.2["status"] == "SUCCESSFUL")
        #expect(await store.commands.isEmpty)
        await second.stop()
    }
}
