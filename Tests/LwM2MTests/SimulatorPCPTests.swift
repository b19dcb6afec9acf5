import Foundation
import GatewayCore
import LwM2M
import LwM2MSimulator
import PCP
import Testing

/// The simulated module's PCP device side, with the test in the platform's role: the real
/// LwM2MServer over DTLS-PSK on 127.0.0.1 carries the frames (downlink writes down, notifications
/// of the observed resource up), `PCPCodec` builds and reads them.
@Suite(.serialized) struct SimulatorPCPTests {
    static let node = "861234567891300"
    static let package: [UInt8] = (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    static let notice = PCPNewVersion(targetVersion: "V2.0", fragmentSize: 500, fragmentCount: 4)
    /// Retries that never fire while a test runs, even on a loaded machine (where an answer can
    /// take over a second), unless the test withholds an answer.
    static let patient = Duration.seconds(10)

    /// A server, one module with `personality`, registered and observed.
    static func start(_ personality: PCPPersonality) async throws -> (ServerIntegrationTests.Rig, PCPPlatformScript) {
        let key = ServerIntegrationTests.randomKey()
        let rig = try ServerIntegrationTests.rig(devices: [NBIoTDevice(nodeId: node, productId: "meter", psk: key)])
        rig.simulator.register(rig.simulator.add(.init(endpoint: node, psk: key, pcp: personality)))
        let observing = await rig.serverEvents.first { if case .observing(node, _) = $0 { true } else { nil } }
        #expect(observing == true)
        return (rig, PCPPlatformScript(rig: rig, nodeId: node))
    }

    @Test func queryNotifyDownloadExecuteAndUpgradeResult() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: Self.patient))
        defer { rig.stop() }
        try platform.send(.queryVersion)
        #expect(await platform.next() == .versionReport(result: .success, version: "V1.0"))

        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.success))
        // Business data keeps flowing during the download.
        rig.simulator.notify(0, payload: [0x01, 0x02, 0x03])
        let served = await platform.serve(Self.package, notice: Self.notice)
        #expect(served.requests.map(\.index) == [0, 1, 2, 3])
        #expect(served.downloadResult == .success)
        let business = await rig.serverEvents.first { if case .uplink(Self.node, _, [0x01, 0x02, 0x03], _) = $0 { true } else { nil } }
        #expect(business == true)

        let downloaded = await rig.deviceEvents.first { if case .pcp(0, .downloaded(let sha, let bytes)) = $0 { (sha, bytes) } else { nil } }
        #expect(downloaded?.1 == Self.package)
        #expect(downloaded?.0 == PCPDeviceEvent.sha256(of: Self.package))
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .progress(held: 4, count: 4))))

        try platform.send(.downloadResultAck(.success))
        try platform.send(.execute)
        #expect(await platform.next() == .executeAnswer(.success))
        // The module installs, reboots (a second registration) and then reports the new version.
        #expect(await platform.next(timeout: .seconds(10)) == .upgradeResult(result: .success, version: "V2.0"))
        try platform.send(.upgradeResultAck(.success))
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .upgraded(version: "V2.0"))))
        #expect(rig.deviceEvents.all.filter { if case .registered(0, _) = $0 { true } else { false } }.count == 2)
        // Both directions were reported, and the module now runs the new version.
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .frame(.received, .execute))))
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .frame(.sent, .executeAnswer(.success)))))
        try platform.send(.queryVersion)
        #expect(await platform.next() == .versionReport(result: .success, version: "V2.0"))
    }

    @Test func aModuleThatLosesPowerResumesFromTheFirstMissingFragment() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: Self.patient, powerLoss: .init(afterFragments: 2)))
        defer { rig.stop() }
        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.success))
        let before = await platform.serve(Self.package, notice: Self.notice, timeout: .seconds(3))
        #expect(before.requests.map(\.index) == [0, 1])
        #expect(before.downloadResult == nil)
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .powerLost(held: 2))))

        rig.simulator.powerOn(0)
        let after = await platform.serve(Self.package, notice: Self.notice, timeout: .seconds(10))
        #expect(after.requests.map(\.index) == [2, 3])
        #expect(after.downloadResult == .success)
        #expect(rig.deviceEvents.all.filter { if case .registered(0, _) = $0 { true } else { false } }.count == 2)
        let downloaded = await rig.deviceEvents.first { if case .pcp(0, .downloaded(_, let bytes)) = $0 { bytes } else { nil } }
        #expect(downloaded == Self.package)
    }

    @Test func aModuleConfiguredToRefuseAnswersTheNotificationWithItsCode() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", newVersionAnswer: .lowBattery))
        defer { rig.stop() }
        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.lowBattery))
        // …and asks for no fragment.
        #expect(await platform.next(timeout: .seconds(2)) == nil)
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .refused(.lowBattery))))
    }

    @Test func aFragmentRequestLeftUnansweredIsRetried() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: .seconds(1)))
        defer { rig.stop() }
        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.success))
        let served = await platform.serve(Self.package, notice: Self.notice, withholding: [1])
        // In order, one at a time; on a loaded machine other answers may come late enough to be
        // asked for twice too, but the withheld one always is, one interval later.
        let indexes = served.requests.map(\.index)
        #expect(indexes.reduce(into: [UInt16]()) { if $0.last != $1 { $0.append($1) } } == [0, 1, 2, 3])
        #expect(indexes.filter { $0 == 1 }.count >= 2)
        #expect(served.downloadResult == .success)
        // When the retry comes is PCPDeviceSideTests' to check, to the millisecond on a manual
        // clock; seen from here, a loaded machine stretches and shrinks the gap.
        let downloaded = await rig.deviceEvents.first { if case .pcp(0, .downloaded(_, let bytes)) = $0 { bytes } else { nil } }
        #expect(downloaded == Self.package)
    }

    @Test func noTaskStopsTheDownload() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: Self.patient))
        defer { rig.stop() }
        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.success))
        #expect(await platform.next() == .fragmentRequest(targetVersion: "V2.0", index: 0))
        try platform.send(.fragment(result: .noTask, index: 0, data: []))
        // No retry, no other request.
        #expect(await platform.next(timeout: .seconds(2)) == nil)
        #expect(rig.deviceEvents.all.contains(.pcp(device: 0, .downloadStopped(.noTask))))
    }

    @Test func theDownloadResultIsResentUntilExecuteArrives() async throws {
        let (rig, platform) = try await Self.start(PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: Self.patient, downloadResultResendInterval: .milliseconds(300)))
        defer { rig.stop() }
        try platform.send(.newVersion(Self.notice))
        #expect(await platform.next() == .newVersionAnswer(.success))
        #expect(await platform.serve(Self.package, notice: Self.notice).downloadResult == .success)
        try platform.send(.downloadResultAck(.success))
        var resent = 0
        while let message = await platform.next(timeout: .milliseconds(800)), resent < 3 {
            if message == .downloadResult(.success) { resent += 1 }
        }
        #expect(resent == 3)
        try platform.send(.execute)
        var afterExecute: [PCPMessage] = []
        while let message = await platform.next(timeout: .milliseconds(900)) { afterExecute.append(message) }
        // The execute answer, perhaps one 0x16 that crossed the 0x17, then the upgrade result only.
        #expect(afterExecute.contains(.executeAnswer(.success)))
        #expect(afterExecute.filter { $0 == .downloadResult(.success) }.count <= 1)
        #expect(await platform.next(timeout: .seconds(10)) == .upgradeResult(result: .success, version: "V2.0")
                || afterExecute.contains(.upgradeResult(result: .success, version: "V2.0")))
    }
}

/// The platform's PCP role toward one module, over the real server.
final class PCPPlatformScript: @unchecked Sendable {
    let rig: ServerIntegrationTests.Rig
    let nodeId: String
    private var cursor = 0
    private var tag: UInt64 = 0

    init(rig: ServerIntegrationTests.Rig, nodeId: String) {
        self.rig = rig
        self.nodeId = nodeId
    }

    func send(_ message: PCPMessage) throws {
        tag += 1
        rig.server.send(Downlink(nodeId: nodeId, payload: try PCPCodec.encode(message), tag: tag))
    }

    /// The module's next PCP message (uplinks in order; business data skipped), nil after `timeout`.
    func next(timeout: Duration = .seconds(5)) async -> PCPMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let events = rig.serverEvents.all
            while cursor < events.count {
                let event = events[cursor]
                cursor += 1
                if case .uplink(nodeId, _, let payload, _) = event, case .success(let message) = PCPCodec.decode(payload, from: .device) {
                    return message
                }
            }
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    struct Served {
        var requests: [(index: UInt16, at: ContinuousClock.Instant)] = []
        var downloadResult: PCPResult?
    }

    /// Answers fragment requests from `package` until the module reports its download (0x16) or
    /// nothing comes for `timeout`; the first request for each index in `withholding` goes unanswered.
    func serve(_ package: [UInt8], notice: PCPNewVersion, withholding: Set<UInt16> = [],
               timeout: Duration = .seconds(5)) async -> Served {
        var served = Served()
        var withheld: Set<UInt16> = []
        while let message = await next(timeout: timeout) {
            switch message {
            case .fragmentRequest(let version, let index):
                served.requests.append((index, .now))
                guard version == notice.targetVersion else { continue }
                if withholding.contains(index), withheld.insert(index).inserted { continue }
                let start = Int(index) * Int(notice.fragmentSize)
                let end = min(start + Int(notice.fragmentSize), package.count)
                let answer: PCPMessage = start < end ? .fragment(result: .success, index: index, data: Array(package[start..<end]))
                                                     : .fragment(result: .noSuchFragment, index: index, data: [])
                try? send(answer)
            case .downloadResult(let result):
                served.downloadResult = result
                return served
            default:
                continue
            }
        }
        return served
    }
}
