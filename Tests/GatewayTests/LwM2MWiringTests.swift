import Config
import Foundation
import Logging
import LwM2M
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

@Suite struct LwM2MWiringTests {
    @Test func queuedCommandsSurviveAReopenOfTheStore() async throws {
        let tmp = TemporaryDirectory()
        let command = QueuedCommand(
            command: ChildCommand(requestId: "r-1", nodeId: "861234567890001", serviceId: "DeviceInfo", commandName: "SET_LABEL",
                                  paras: ["label": "pump house 3"]),
            strategy: .cached, mid: 65535, state: .sent, createdAt: Date(timeIntervalSince1970: 1_800_000_000.25),
            expiresAt: Date(timeIntervalSince1970: 1_800_086_400), sentAt: Date(timeIntervalSince1970: 1_800_000_010),
            expectsResponse: false)
        do {
            let queue = StoredCommandQueue(store: try StateStore(directory: tmp.path), logger: Logger(label: "t"))
            try await queue.save(command)
            try await queue.save(QueuedCommand(command: ChildCommand(requestId: "r-2", nodeId: "n", serviceId: nil, commandName: "X", paras: [:]),
                                               strategy: .immediate, mid: 1, state: .pending, createdAt: Date(), expiresAt: Date()))
            try await queue.remove(requestId: "r-2")
        }
        let reopened = StoredCommandQueue(store: try StateStore(directory: tmp.path), logger: Logger(label: "t"))
        #expect(try await reopened.loadAll() == [command])
    }

    @Test func aDamagedRowIsSkippedNotFatal() async throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        try store.saveQueuedCommand(requestId: "bad", nodeId: "n", body: Data("{\"request_id\": 5".utf8))
        #expect(try await StoredCommandQueue(store: store, logger: Logger(label: "t")).loadAll().isEmpty)
    }

    /// Keys with a range: a value inside is taken, one outside is reported at its line.
    @Test(arguments: [
        ("listener_sockets", 8, 0, LwM2MServerSettings.defaultSocketsPerListener, \LwM2MServerSettings.socketsPerListener),
        ("coap_threads", 3, 17, LwM2MServerSettings.defaultCoAPThreads, \LwM2MServerSettings.coapThreads),
    ] as [(String, Int, Int, Int, KeyPath<LwM2MServerSettings, Int> & Sendable)])
    func rangedKeysComeFromTheLwM2MSection(key: String, inside: Int, outside: Int, defaultValue: Int,
                                           field: KeyPath<LwM2MServerSettings, Int> & Sendable) throws {
        func parse(_ text: String) throws -> (LwM2MConfig, [ConfigDiagnostic]) {
            let diagnostics = ConfigDiagnostics()
            guard case .success(let document) = TOMLDocumentParser.parse(text: text, file: "edgegw.toml") else {
                Issue.record("bad TOML")
                return (LwM2MConfig(), [])
            }
            let config = LwM2MConfig.parse(ConfigReader(document: document, diagnostics: diagnostics).table("lwm2m"),
                                           gateway: nil, baseDirectory: ".")
            return (config, diagnostics.all)
        }
        #expect(LwM2MConfig().server[keyPath: field] == defaultValue)
        let (taken, clean) = try parse("[lwm2m]\n\(key) = \(inside)\n")
        #expect(taken.server[keyPath: field] == inside)
        #expect(clean.isEmpty)
        let (_, problems) = try parse("[lwm2m]\n\n\(key) = \(outside)\n")
        #expect(problems.contains { $0.keyPath.hasSuffix(key) && $0.line == 3 })
    }

    /// The platform's window, defined once: the bridge gives a command the deadline 19 s after it
    /// arrived (20 s less the trip), the LwM2M service answers "queued" 2 s before that (17 s),
    /// and the bridge passes that answer on instead of its own "timeout". One manual clock moves
    /// both, to the millisecond; no CoAP server runs (the device is asleep anyway).
    @Test func theLwM2MServiceAnswersQueuedBeforeTheBridgesDeadline() async throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        let outbox = try Outbox(store: store)
        let manual = ManualClock()
        let clock = GatewayClock.manual(manual)
        let node = "861234567890321"
        let child = ChildDevice(nodeId: node, deviceId: "water-meter_\(node)", productId: "water-meter", source: .lwm2m)
        try store.upsertChild(child)
        let bridge = CloudBridge(gatewayDeviceId: "gw-1", store: store, outbox: outbox, children: [child], clock: clock,
                                 logger: Logger(label: "t"))
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: node, productId: "water-meter", psk: Array(repeating: 7, count: 16))])
        let codecs = ProductCodecs.load(productsDirectory: Paths.packageRoot + "/etc/edgegw/products").codecs
        let service = LwM2MService(server: LwM2MServer(settings: LwM2MServerSettings(), directory: directory), directory: directory,
                                   decoder: codecs, encoder: codecs, sink: bridge, clock: clock)
        await bridge.register(service, for: .lwm2m)
        let request = #"{"object_device_id":"water-meter_\#(node)","service_id":"DeviceInfo","command_name":"SET_LABEL","paras":{"label":"x"}}"#
        await bridge.received(topic: "$oc/devices/gw-1/sys/commands/request_id=q1", payload: Data(request.utf8))
        #expect(await Eventually.wait(timeout: .seconds(30)) { manual.sleeperCount == 2 }) // the bridge's deadline, the service's "queued"
        manual.advance(by: CommandRequest.responseWindow - CloudBridge.downlinkTripMargin - LwM2MService.queuedAnswerLead
                       - .milliseconds(1))
        try await Task.sleep(for: .milliseconds(100))
        #expect(outbox.count == 0, "answered before 17 s")
        manual.advance(by: .milliseconds(1))
        #expect(await Eventually.wait { outbox.count == 1 })
        let answer = try #require(try outbox.pending(limit: 1).first)
        #expect(answer.topic == "$oc/devices/gw-1/sys/commands/response/request_id=q1")
        let json = try JSONSerialization.jsonObject(with: Data(answer.payload)) as? [String: Any]
        #expect(json?["result_code"] as? Int == DownlinkResultCode.queued.rawValue, "\(json ?? [:])")
        #expect((json?["paras"] as? [String: Any])?["status"] as? String == "PENDING")
    }

    @Test func productCodecsKnowWhichCommandsHaveNoResponse() throws {
        let fixture = ConfigFixture()
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        fixture.directory.write("products/water-meter.toml", sample)
        let loaded = try ConfigLoader.load(path: fixture.configPath).get()
        let codecs = ProductCodecs(codecs: loaded.codecs)
        let label = ChildCommand(requestId: "r", nodeId: "n", serviceId: "DeviceInfo", commandName: "SET_LABEL", paras: ["label": "x"])
        let valve = ChildCommand(requestId: "r", nodeId: "n", serviceId: "WaterMeterBasic", commandName: "SET_VALVE", paras: ["open": true])
        #expect(codecs.expectsResponse(label, productId: "water-meter") == false)
        #expect(codecs.expectsResponse(valve, productId: "water-meter") == true)
        #expect(try codecs.encodeCommand(valve, productId: "water-meter", mid: 7).isEmpty == false)
        #expect(throws: ProductCodecs.NoCodec.self) { try codecs.encodeCommand(valve, productId: "power-meter", mid: 7) }
        if case .report(let services, _) = codecs.decodeUplink(nodeId: "n", productId: "water-meter",
                                                               payload: [0x01, 0x04, 0xD2, 0x00, 0x01, 0xE2, 0x40, 0x00, 0xEB, 0x3F, 0x80, 0x00, 0x00]) {
            #expect(services.first?.properties["flow"] == .double(12.34))
        } else {
            Issue.record("the sample reading did not decode")
        }
    }
}

/// The graceful stop's one bound: what the field services take counts against the cloud's drain.
@Suite struct ShutdownStartTests {
    @Test func theFirstMarkCountsAndLaterOnesDoNot() {
        let manual = ManualClock()
        let start = ShutdownStart(clock: .manual(manual))
        start.mark()
        manual.advance(by: .milliseconds(1500))
        start.mark()
        manual.advance(by: .milliseconds(500))
        #expect(start.elapsed() == .seconds(2))
        #expect(CloudService.drainTime(within: .seconds(10) - start.elapsed()) == .milliseconds(7500))
    }

    @Test func withoutAMarkNothingWasSpent() {
        let manual = ManualClock()
        let start = ShutdownStart(clock: .manual(manual))
        #expect(start.elapsed() == .zero)
        manual.advance(by: .seconds(1))
        #expect(start.elapsed() == .seconds(1))
    }
}
