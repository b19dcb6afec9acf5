import Config
import Foundation
import Logging
import LwM2M
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore
@testable import Store

@Suite struct NBIoTWiringTests {
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

    @Test func theNBIoTServiceAnswersInsideTheBridgesWindow() {
        // Otherwise the bridge answers "timeout" before the service can say "queued".
        #expect(Duration.seconds(LwM2MConfig.commandWindow) < CloudBridge<ContinuousClock>.downlinkAnswerWindow)
        #expect(LwM2MConfig().service.commandWindow == LwM2MConfig.commandWindow)
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
