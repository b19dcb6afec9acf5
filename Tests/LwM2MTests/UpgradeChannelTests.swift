import Foundation
import GatewayCore
import LwM2M
import LwM2MSimulator
import PCP
import Testing
import TestSupport

/// What the upgrade side hears from the LwM2M service, in order.
actor RecordingUpgrades: UpgradeUplinkHandler {
    enum Heard: Equatable {
        case reported(String)
        case frame([UInt8], String)
        case radio(RadioConditions, String)
    }

    var heard: [Heard] = []
    var reports: Int { heard.filter { if case .reported = $0 { true } else { false } }.count }
    var frames: [[UInt8]] { heard.compactMap { if case .frame(let frame, _) = $0 { frame } else { nil } } }
    var radios: [RadioConditions] { heard.compactMap { if case .radio(let radio, _) = $0 { radio } else { nil } } }

    func deviceReported(nodeId: String) async { heard.append(.reported(nodeId)) }
    func pcpFrame(_ frame: [UInt8], nodeId: String) async { heard.append(.frame(frame, nodeId)) }
    func radioConditions(_ conditions: RadioConditions, nodeId: String) async { heard.append(.radio(conditions, nodeId)) }
}

/// A codec whose reports carry the water meter's radio properties (01 ss = signalStrength −ss dBm).
struct RadioReportingCodec: UplinkPayloadHandler {
    func decodeUplink(nodeId: String, productId: String, payload: [UInt8]) -> UplinkDecoding {
        guard payload.count == 2, payload[0] == 0x01 else { return .undecodable("unknown message") }
        return .report([ServiceReport(serviceId: "Connectivity",
                                      properties: ["signalStrength": .int(-Int64(payload[1])), "cellId": 4711])], response: nil)
    }
}

/// The LwM2M side of upgrades over DTLS on 127.0.0.1 with the simulated module: PCP frames up to
/// the upgrade side and down to the device's downlink resource, reports, and the device's radio.
@Suite(.serialized) struct UpgradeChannelTests {
    static let node = "861234567890300"

    struct Rig {
        let service: LwM2MService
        let upgrades: RecordingUpgrades
        let task: Task<Void, Error>
        let simulator: NBIoTDeviceSimulator
        let deviceEvents: EventRecorder<NBIoTDeviceSimulator.Event>
        let device: Int

        func stop() async {
            simulator.stop()
            task.cancel()
            _ = try? await task.value
        }
    }

    static func rig(objectLinks: String = NBIoTDeviceSimulator.Device(endpoint: "", psk: []).objectLinks,
                    decoder: UplinkPayloadHandler = ToyCodec(), attach: Bool = true,
                    tune: (inout LwM2MServerSettings) -> Void = { _ in }) async throws -> Rig {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let port = FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        tune(&serverSettings)
        let directory = StaticDeviceDirectory([NBIoTDevice(nodeId: node, productId: "meter", psk: key, pcpUpgradeCapable: true)])
        let server = LwM2MServer(settings: serverSettings, directory: directory)
        let upgrades = RecordingUpgrades()
        let service = LwM2MService(server: server, directory: directory, decoder: decoder, encoder: ToyCodec(),
                                   sink: RecordingSink(), upgrades: attach ? upgrades : nil)
        let task = Task { try await service.run() }
        let simulator = NBIoTDeviceSimulator(serverPort: port,
                                             resources: NBIoTDeviceSimulator.defaultResources + NBIoTDeviceSimulator.object4Resources)
        let deviceEvents = EventRecorder(simulator.events)
        try simulator.start()
        let device = simulator.add(.init(endpoint: node, psk: key, objectLinks: objectLinks))
        await UDPListeners.registerOnceListening(device, on: simulator, port: port, events: deviceEvents)
        return Rig(service: service, upgrades: upgrades, task: task, simulator: simulator, deviceEvents: deviceEvents, device: device)
    }

    static func fragmentRequest(_ index: UInt16) throws -> [UInt8] {
        try PCPCodec.encode(.fragmentRequest(targetVersion: "V2.0", index: index))
    }

    @Test func aPCPFrameGoesToTheUpgradeSideAndNotToTheCodec() async throws {
        let rig = try await Self.rig()
        let frame = try Self.fragmentRequest(3)
        rig.simulator.notify(rig.device, payload: frame)
        #expect(await Eventually.wait { await rig.upgrades.frames == [frame] })
        rig.simulator.notify(rig.device, payload: [0x01, 42]) // business data: the codec's
        #expect(await Eventually.wait { await rig.service.stats.reports == 1 })
        let stats = await rig.service.stats
        #expect(stats.pcpFramesUp == 1 && stats.undecodable == 0)
        #expect(await rig.upgrades.frames == [frame])
        // The Register, the PCP uplink and the data uplink each tell the upgrade side.
        #expect(await rig.upgrades.heard.prefix(3) == [.reported(Self.node), .reported(Self.node), .frame(frame, Self.node)])
        #expect(await Eventually.wait { await rig.upgrades.reports == 3 })
        await rig.stop()
    }

    @Test func anUpdateTellsTheUpgradeSideTheDeviceReported() async throws {
        let rig = try await Self.rig()
        #expect(await Eventually.wait { await rig.upgrades.reports == 1 })
        rig.simulator.update(rig.device)
        #expect(await Eventually.wait { await rig.upgrades.reports == 2 })
        await rig.stop()
    }

    @Test func sendPCPWritesTheFrameByteExactOnTheDownlinkResource() async throws {
        let rig = try await Self.rig()
        let answer = try PCPCodec.encode(.fragment(result: .success, index: 3, data: Array(0..<200)))
        #expect(await rig.service.sendPCP(answer, nodeId: Self.node))
        let written = await rig.deviceEvents.first { if case .downlink(_, let path, _, let payload) = $0 { (path, payload) } else { nil } }
        #expect(written?.0 == "/19/1/0")
        #expect(written?.1 == answer)
        // The ACK is the PCP write's: no command is touched, no failure counted.
        #expect(await Eventually.wait { await rig.service.stats.pcpFramesDown == 1 })
        try await Task.sleep(for: .milliseconds(200))
        let stats = await rig.service.stats
        #expect(stats.pcpSendFailures == 0 && stats.commandsFinished == 0 && stats.lateCommandResults == 0)
        await rig.stop()
    }

    @Test func sendPCPToAnUnknownDeviceIsFalse() async throws {
        let rig = try await Self.rig()
        #expect(await rig.service.sendPCP([0xFF, 0xFE, 0x01, 0x13, 0, 0, 0, 0], nodeId: "861234567890999") == false)
        let stats = await rig.service.stats
        #expect(stats.pcpSendFailures == 1 && stats.pcpFramesDown == 0)
        await rig.stop()
    }

    /// Registered but asleep (its session closed): the write is taken, then counted as a failure.
    @Test func aPCPWriteToASleepingDeviceIsCountedAsAFailure() async throws {
        let rig = try await Self.rig {
            $0.ackTimeout = 0.2
            $0.maxRetransmit = 1
        }
        rig.simulator.sleep(rig.device)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await rig.service.sendPCP(try PCPCodec.encode(.queryVersion), nodeId: Self.node))
        #expect(await Eventually.wait(timeout: .seconds(10)) { await rig.service.stats.pcpSendFailures == 1 })
        let stats = await rig.service.stats
        #expect(stats.pcpFramesDown == 1 && stats.commandsFinished == 0)
        await rig.stop()
    }

    /// Without an upgrade side a PCP frame is counted, not answered, and still not the codec's.
    @Test func withoutAnUpgradeSideAPCPFrameIsCountedOnly() async throws {
        let rig = try await Self.rig(attach: false)
        rig.simulator.notify(rig.device, payload: try Self.fragmentRequest(0))
        #expect(await Eventually.wait { await rig.service.stats.pcpFramesUp == 1 })
        #expect(await rig.service.stats.undecodable == 0)
        #expect(await rig.upgrades.heard.isEmpty)
        await rig.service.attachUpgrades(rig.upgrades)
        rig.simulator.notify(rig.device, payload: try Self.fragmentRequest(1))
        #expect(await Eventually.wait { await rig.upgrades.frames.count == 1 })
        await rig.stop()
    }

    /// Object 4 announced: RSRP (/4/0/2) and cell id (/4/0/8) read after the Register; the
    /// simulated module has no SignalSNR (/4/0/11: 4.04), so the SINR stays unknown.
    @Test func theRadioIsReadFromObject4() async throws {
        let rig = try await Self.rig(objectLinks: NBIoTDeviceSimulator.objectLinksWithObject4)
        #expect(await Eventually.wait { await rig.upgrades.radios.count == 1 })
        #expect(await rig.upgrades.radios == [RadioConditions(rsrp: NBIoTDeviceSimulator.simulatedRSRP, sinr: nil,
                                                               cellId: String(NBIoTDeviceSimulator.simulatedCellId))])
        #expect(await rig.service.stats.radioReads == 2)
        await rig.stop()
    }

    @Test func noObject4NoReads() async throws {
        let rig = try await Self.rig()
        try await Task.sleep(for: .milliseconds(300))
        #expect(await rig.upgrades.radios.isEmpty)
        #expect(await rig.service.stats.radioReads == 0)
        await rig.stop()
    }

    /// The product's radio properties (the water meter's signalStrength and cellId) go on too,
    /// once per change.
    @Test func radioPropertiesOfAReportGoToTheUpgradeSide() async throws {
        let rig = try await Self.rig(decoder: RadioReportingCodec())
        rig.simulator.notify(rig.device, payload: [0x01, 101])
        #expect(await Eventually.wait { await rig.upgrades.radios == [RadioConditions(rsrp: -101, cellId: "4711")] })
        rig.simulator.notify(rig.device, payload: [0x01, 101])
        rig.simulator.notify(rig.device, payload: [0x01, 117])
        #expect(await Eventually.wait { await rig.upgrades.radios.count == 2 })
        #expect(await rig.upgrades.radios.last == RadioConditions(rsrp: -117, cellId: "4711"))
        await rig.stop()
    }
}
