import Foundation
import GatewayCore
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// A toy codec: 01 vv = report of `value`; 02 mh ml rr = result for mid (rr 0 = ok); commands are
/// 10 mh ml, with an optional parameter `value` of 0...100 and no other (as strict as a product's).
struct ToyCodec: UplinkPayloadHandler, DownlinkEncoder {
    struct BadParameter: Error, CustomStringConvertible {
        var description: String
    }

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
        for (name, value) in command.paras.pairs {
            guard name == "value" else { throw BadParameter(description: "paras.\(name): the command has no such parameter") }
            guard case .int(let number) = value, (0...100).contains(number) else {
                throw BadParameter(description: "paras.value: out of 0...100")
            }
        }
        return [0x10, UInt8(mid >> 8), UInt8(mid & 0xFF)]
    }

    /// The simulated device answers every command with success.
    static let responder: @Sendable (Int, [UInt8]) -> [UInt8]? = { _, payload in
        payload.first == 0x10 && payload.count == 3 ? [0x02, payload[1], payload[2], 0x00] : nil
    }
}

/// The kernel's table of bound UDP sockets, read without binding a probe (which could race the
/// server's own bind).
enum UDPListeners {
    /// The server binds inside `run()`: Register once it listens, and again only if that one went
    /// unanswered; then wait for the Observe.
    static func registerOnceListening(_ device: Int, on simulator: NBIoTDeviceSimulator, port: UInt16,
                                      events: EventRecorder<NBIoTDeviceSimulator.Event>) async {
        _ = await Eventually.wait(timeout: .seconds(10)) { contains(port: port) }
        for _ in 0..<5 {
            simulator.register(device)
            if await events.first(timeout: .seconds(10), where: { if case .registerAnswered = $0 { true } else { nil } }) == true { break }
        }
        _ = await events.first(timeout: .seconds(10)) { if case .observed = $0 { true } else { nil } }
    }
    static func contains(port: UInt16) -> Bool {
        let needle = String(format: ":%04X ", port)
        return ["/proc/net/udp", "/proc/net/udp6"].contains { path in
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
            // Column 2 is the local address: "0100007F:C35A".
            return text.split(separator: "\n").dropFirst().contains { line in
                line.split(separator: " ").dropFirst().first.map { ($0 + " ").hasSuffix(needle) } ?? false
            }
        }
    }
}

actor RecordingSink: UplinkSink {
    var reports: [(String, [ServiceReport])] = []
    var statuses: [(String, ChildStatus)] = []
    /// Device messages: node, name, id, content.
    var messages: [(String, String, String, JSONObject)] = []

    /// Reports wait here while it is closed (a report in flight in the service).
    private var gate: [CheckedContinuation<Void, Never>]?

    func closeGate() { gate = gate ?? [] }
    func openGate() {
        let waiting = gate ?? []
        gate = nil
        waiting.forEach { $0.resume() }
    }
    var waitingAtGate: Int { gate?.count ?? 0 }

    func report(nodeId: String, services: [ServiceReport]) async {
        if gate != nil { await withCheckedContinuation { gate?.append($0) } }
        reports.append((nodeId, services))
    }
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async { statuses.append((nodeId, status)) }
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {
        messages.append((nodeId, name, id, content))
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
    /// How long the cloud bridge gives a command: the platform's 20 s window less the bridge's
    /// 1 s trip margin (`CloudBridge.downlinkTripMargin`).
    static let bridgeWindow: Duration = .seconds(19)

    struct Rig {
        let service: LwM2MService
        let server: LwM2MServer
        let clock: GatewayClock
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

        /// The deadline the cloud bridge would give a command arriving now.
        func deadline() -> GatewayClock.Instant { clock.now.advanced(by: ServiceIntegrationTests.bridgeWindow) }
    }

    static func rig(key: [UInt8], store: CommandQueueStore? = nil, lifetime: Int = 300, port: UInt16? = nil,
                    sink: RecordingSink = RecordingSink(), pcp: Bool = false, settings: LwM2MServiceSettings,
                    clock: GatewayClock = .system()) async throws -> Rig {
        let port = port ?? FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: node, productId: "meter", psk: key, pcpUpgradeCapable: pcp)])
        let server = LwM2MServer(settings: serverSettings, directory: directory)
        let service = LwM2MService(server: server, directory: directory, decoder: ToyCodec(), encoder: ToyCodec(), sink: sink,
                                   store: store, settings: settings, clock: clock)
        let task = Task { try await service.run() }
        let simulator = NBIoTDeviceSimulator(serverPort: port, responder: ToyCodec.responder)
        let deviceEvents = EventRecorder(simulator.events)
        try simulator.start()
        let device = simulator.add(.init(endpoint: node, psk: key, lifetime: lifetime))
        // Not Register again after a slow answer: that is a second registration, and with a 1 s
        // lifetime it can come after the first expired and bring the device ONLINE again.
        await UDPListeners.registerOnceListening(device, on: simulator, port: port, events: deviceEvents)
        return Rig(service: service, server: server, clock: clock, task: task, sink: sink, simulator: simulator,
                   deviceEvents: deviceEvents, device: device)
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
        let manual = ManualClock()
        let settings = LwM2MServiceSettings(awakeWindow: .milliseconds(100))
        let rig = try await Self.rig(key: Self.key(), settings: settings, clock: .manual(manual))
        manual.advance(by: .milliseconds(200)) // the device is in PSM now
        let command = ChildCommand(requestId: "r1", nodeId: Self.node, serviceId: "Valve", commandName: "OPEN", paras: [:])
        async let outcome = rig.service.command(command, deadline: rig.deadline())
        try await Task.sleep(for: .milliseconds(300))
        #expect(await rig.deviceEvents.first(timeout: .milliseconds(1)) { if case .downlink = $0 { true } else { nil } } == nil)
        rig.simulator.notify(rig.device, payload: [0x01, 7])
        let result = await outcome
        #expect(result.resultCode == 0)
        #expect(result.paras["rc"] == .int(0))
        await rig.stop()
    }

    @Test func immediateCommandToASleepingDeviceFails() async throws {
        let manual = ManualClock()
        let rig = try await Self.rig(key: Self.key(), settings: LwM2MServiceSettings(awakeWindow: .milliseconds(100)),
                                     clock: .manual(manual))
        rig.simulator.sleep(rig.device)
        manual.advance(by: .milliseconds(200))
        let command = ChildCommand(requestId: "r2", nodeId: Self.node, serviceId: "Valve", commandName: "OPEN",
                                   paras: ["send_strategy": "immediately"])
        let outcome = await rig.service.command(command, deadline: rig.deadline())
        #expect(outcome.resultCode == DownlinkResultCode.deviceUnreachable.rawValue)
        await rig.stop()
    }

    @Test func lifetimeExpiryReportsOffline() async throws {
        let rig = try await Self.rig(key: Self.key(), lifetime: 1, settings: LwM2MServiceSettings())
        let offline = await Eventually.wait(timeout: .seconds(4)) { await rig.sink.statuses.contains { $0.1 == .offline } }
        #expect(offline)
        let statuses = await rig.sink.statuses.map(\.1)
        #expect(statuses == [.online, .offline], "\(statuses)")
        await rig.stop()
    }

    /// The answer comes `queuedAnswerLead` (2 s) before the deadline, to the millisecond, on the
    /// service's manual clock: 17 s after the platform sent the command.
    @Test func queuedCommandSurvivesARestartAndReportsItsResultLater() async throws {
        let key = Self.key()
        let store = MemoryCommandStore()
        let port = FreePort.next(udp: true)
        let manual = ManualClock()
        let settings = LwM2MServiceSettings(awakeWindow: .milliseconds(100))
        // Its wall time starts now: the second start runs on the system clock, and the stored expiry must mean today.
        let first = try await Self.rig(key: key, store: store, port: port, settings: settings, clock: .manual(manual, epoch: Date()))
        manual.advance(by: .milliseconds(200))
        let sleepers = manual.sleeperCount // the service's tick
        let answer = Locked<DownlinkOutcome?>(nil)
        let asking = Task {
            let outcome = await first.service.command(ChildCommand(requestId: "r3", nodeId: Self.node, serviceId: "Valve",
                                                                   commandName: "CLOSE", paras: [:]), deadline: first.deadline())
            answer.withLock { $0 = outcome }
        }
        #expect(await Eventually.wait { manual.sleeperCount == sleepers + 1 })
        manual.advance(by: Self.bridgeWindow - LwM2MService.queuedAnswerLead - .milliseconds(1))
        try await Task.sleep(for: .milliseconds(100))
        #expect(answer.withLock { $0 } == nil, "answered before its time")
        manual.advance(by: .milliseconds(1))
        await asking.value
        let outcome = try #require(answer.withLock { $0 })
        #expect(outcome.resultCode == DownlinkResultCode.queued.rawValue)
        #expect(outcome.paras["status"] == "PENDING")
        await first.stop()
        #expect(await store.commands["r3"]?.state == .pending)

        let sink = RecordingSink()
        let second = try await Self.rig(key: key, store: store, port: port, sink: sink, settings: settings)
        let reported = await Eventually.wait { await sink.messages.contains { $0.2 == "r3" } }
        #expect(reported)
        // A device message of the child (the platform's channel for it), not an event of an undeclared service.
        let message = await sink.messages.first { $0.2 == "r3" }
        #expect(message?.0 == Self.node)
        #expect(message?.1 == LwM2MService.commandResultMessageName)
        #expect(message?.3["request_id"] == "r3")
        #expect(message?.3["command_name"] == "CLOSE")
        #expect(message?.3["service_id"] == "Valve")
        #expect(message?.3["status"] == "SUCCESSFUL")
        #expect(message?.3["result_code"] == .int(0))
        #expect(await store.commands.isEmpty)
        await second.stop()
    }

    /// `send_strategy` is edgegw's: the codec never sees it (it refuses unknown parameters).
    @Test(arguments: ["immediately", "delay"])
    func sendStrategyIsTakenOutOfParasBeforeEncoding(strategy: String) async throws {
        let rig = try await Self.rig(key: Self.key(), settings: LwM2MServiceSettings(), clock: .manual(ManualClock()))
        let command = ChildCommand(requestId: "s-\(strategy)", nodeId: Self.node, serviceId: "Valve", commandName: "SET",
                                   paras: ["value": 5, "send_strategy": .string(strategy)])
        async let outcome = rig.service.command(command, deadline: rig.deadline())
        try await Task.sleep(for: .milliseconds(100))
        rig.simulator.notify(rig.device, payload: [0x01, 7]) // a delay command goes with the next report
        let result = await outcome
        #expect(result.resultCode == 0, "\(result)")
        let bad = await rig.service.command(ChildCommand(requestId: "s-bad", nodeId: Self.node, serviceId: "Valve", commandName: "SET",
                                                         paras: ["send_strategy": "later"]), deadline: rig.deadline())
        #expect(bad.resultCode == DownlinkResultCode.badRequest.rawValue)
        #expect(bad.resultDesc?.contains("send_strategy") == true)
        await rig.stop()
    }

    /// A command the product's codec refuses is answered 3 at once, asleep or awake, never queued.
    @Test func anInvalidCommandForASleepingDeviceIsRefusedAtOnce() async throws {
        let store = MemoryCommandStore()
        let manual = ManualClock()
        let rig = try await Self.rig(key: Self.key(), store: store, settings: LwM2MServiceSettings(awakeWindow: .milliseconds(100)),
                                     clock: .manual(manual))
        rig.simulator.sleep(rig.device)
        manual.advance(by: .milliseconds(200))
        let started = ContinuousClock.now
        let outcome = await rig.service.command(ChildCommand(requestId: "bad", nodeId: Self.node, serviceId: "Valve", commandName: "SET",
                                                             paras: ["value": 500]), deadline: rig.deadline())
        let took = started.duration(to: .now)
        print("invalid command for a sleeping device: result_code \(outcome.resultCode) in \(took)")
        #expect(outcome.resultCode == DownlinkResultCode.badRequest.rawValue)
        #expect(outcome.resultDesc?.contains("out of 0...100") == true)
        #expect(took < .seconds(1))
        #expect(await store.commands.isEmpty)
        await rig.stop()
    }

    /// `delay` waits for the module's next uplink even when it was heard within `awake_window`
    /// (time of the service from a manual clock; the CoAP exchange is real).
    @Test func aDelayCommandWaitsForTheNextReportThoughTheDeviceWasJustHeard() async throws {
        let manual = ManualClock()
        let rig = try await Self.rig(key: Self.key(), settings: LwM2MServiceSettings(awakeWindow: .seconds(20)), clock: .manual(manual))
        manual.advance(by: .seconds(5)) // 5 s after the registration: inside the awake window
        // A deadline past the 30 s this test moves to: the answer here is the device's.
        async let outcome = rig.service.command(ChildCommand(requestId: "d1", nodeId: Self.node, serviceId: "Valve",
                                                             commandName: "OPEN", paras: [:]),
                                                deadline: rig.clock.now.advanced(by: .seconds(60)))
        let early = await rig.deviceEvents.first(timeout: .milliseconds(500)) { if case .downlink = $0 { true } else { nil } }
        #expect(early == nil, "a delay command went out before the next report")
        manual.advance(by: .seconds(25))
        rig.simulator.notify(rig.device, payload: [0x01, 9])
        #expect(await outcome.resultCode == 0)
        await rig.stop()
    }

    /// SIGTERM's graceful stop: a report the server had received while the service was still
    /// busy with the one before reaches the sink before `finish()` returns; `run()` returns on its
    /// own, and a command that comes after is refused (10: shutting down), not queued.
    @Test func finishHandsTheReportsInFlightToTheSinkBeforeItReturns() async throws {
        let sink = RecordingSink()
        let rig = try await Self.rig(key: Self.key(), sink: sink, settings: LwM2MServiceSettings())
        await sink.closeGate()
        rig.simulator.notify(rig.device, payload: [0x01, 1])
        #expect(await Eventually.wait { await sink.waitingAtGate == 1 })
        rig.simulator.notify(rig.device, payload: [0x01, 2])
        #expect(await Eventually.wait { rig.server.counters.notifications == 2 }) // in the server's events, not handled yet
        let finished = Locked(false)
        let finishing = Task {
            await rig.service.finish()
            finished.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!finished.withLock { $0 }, "finish() returned with a report still in flight")
        await sink.openGate()
        await finishing.value
        #expect(await sink.reports.map { $0.1.first?.properties["value"] } == [1, 2])
        try await rig.task.value
        let late = await rig.service.command(ChildCommand(requestId: "late", nodeId: Self.node, serviceId: "Valve",
                                                          commandName: "OPEN", paras: [:]), deadline: rig.deadline())
        #expect(late.resultCode == DownlinkResultCode.internalError.rawValue)
        rig.simulator.stop()
    }

    /// A command waiting for its sleeping device when the stop begins is answered `queued` within
    /// `finishBound` (on the manual clock), and stays persisted for the next start.
    @Test func finishAnswersACommandWaitingForItsDeviceQueuedWithinItsBound() async throws {
        let store = MemoryCommandStore()
        let manual = ManualClock()
        let rig = try await Self.rig(key: Self.key(), store: store, settings: LwM2MServiceSettings(), clock: .manual(manual))
        let sleepers = manual.sleeperCount
        let asking = Task {
            await rig.service.command(ChildCommand(requestId: "w1", nodeId: Self.node, serviceId: "Valve", commandName: "OPEN",
                                                   paras: [:]), deadline: rig.deadline())
        }
        #expect(await Eventually.wait { manual.sleeperCount == sleepers + 1 })
        let finishing = Task { await rig.service.finish() }
        #expect(await Eventually.wait { manual.sleeperCount == sleepers + 2 }) // the stop's bound
        manual.advance(by: LwM2MService.finishBound)
        await finishing.value
        let outcome = await asking.value
        #expect(outcome.resultCode == DownlinkResultCode.queued.rawValue)
        #expect(outcome.paras["status"] == "PENDING")
        #expect(await store.commands["w1"]?.state == .pending)
        try await rig.task.value
        rig.simulator.stop()
    }

    /// Spec §2.9: a frame that looks like PCP but fails a check (here the CRC) is business data.
    @Test func aPCPLookingFrameWithAWrongChecksumGoesToTheCodec() async throws {
        let rig = try await Self.rig(key: Self.key(), pcp: true, settings: LwM2MServiceSettings())
        rig.simulator.notify(rig.device, payload: [0xFF, 0xFE, 0x01, 0x16, 0x00, 0x00, 0x00, 0x01, 0x00]) // CRC 0000
        #expect(await Eventually.wait { await rig.service.stats.undecodable == 1 })
        rig.simulator.notify(rig.device, payload: [0xFF, 0xFE, 0x01, 0x16, 0x85, 0x0E, 0x00, 0x01, 0x00]) // CRC 850E
        #expect(await Eventually.wait { await rig.service.stats.pcpFrames == 1 })
        #expect(await rig.service.stats.undecodable == 1)
        await rig.stop()
    }
}
