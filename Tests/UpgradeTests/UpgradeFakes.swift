import Foundation
import GatewayCore
import IoTDA
import Logging
import PCP
import TestSupport
import Upgrade

/// The field side: records every frame, decoded as the device reads it.
actor FakeDownlink: UpgradeDownlink {
    var sent: [(nodeId: String, message: PCPMessage)] = []
    var unreachable: Set<String> = []

    func sendPCP(_ frame: [UInt8], nodeId: String) async -> Bool {
        guard !unreachable.contains(nodeId) else {
            attempts[nodeId, default: 0] += 1
            return false
        }
        if case .success(let message) = PCPCodec.decode(frame, from: .platform) {
            sent.append((nodeId, message))
        }
        return true
    }

    var attempts: [String: Int] = [:]

    func setReachable(_ nodeId: String, _ reachable: Bool) {
        if reachable { unreachable.remove(nodeId) } else { unreachable.insert(nodeId) }
    }

    func messages(to nodeId: String) -> [PCPMessage] { sent.filter { $0.nodeId == nodeId }.map(\.message) }

    func count(where predicate: @Sendable (PCPMessage) -> Bool) -> Int { sent.filter { predicate($0.message) }.count }

    func nodes(receiving predicate: @Sendable (PCPMessage) -> Bool) -> Set<String> {
        Set(sent.filter { predicate($0.message) }.map(\.nodeId))
    }
}

/// The cloud side: every report in order.
actor FakeReporter: UpgradeReporter {
    var progresses: [(nodeId: String, progress: UpgradeProgress)] = []
    var versions: [(nodeId: String, report: VersionReport)] = []

    func progress(nodeId: String, _ progress: UpgradeProgress) async { progresses.append((nodeId, progress)) }
    func versionReport(nodeId: String, _ report: VersionReport) async { versions.append((nodeId, report)) }

    /// The final report of a child: the last one carrying a description (results end a task).
    func finalReport(_ nodeId: String) -> UpgradeProgress? {
        progresses.last { $0.nodeId == nodeId && $0.progress.description != nil }?.progress
    }

    func finals() -> [String: UpgradeProgress] {
        var result: [String: UpgradeProgress] = [:]
        for (nodeId, p) in progresses where p.description != nil { result[nodeId] = p }
        return result
    }

    func progressValues(_ nodeId: String) -> [Int] {
        progresses.filter { $0.nodeId == nodeId && $0.progress.description == nil }.compactMap(\.progress.progress)
    }
}

/// The package cache: one package, every preparation answered with `answer`.
actor FakePackages: PackageSource {
    let data: [UInt8]
    var answer: PackagePreparation
    var prepared: [String] = []
    var fragmentReads = 0

    init(data: [UInt8], answer: PackagePreparation? = nil) {
        self.data = data
        self.answer = answer ?? .ready(PackageIdentity("pkg-1"), size: data.count)
    }

    func prepare(_ notice: UpgradeNotice, for nodeId: String) async -> PackagePreparation {
        prepared.append(nodeId)
        if holding { await withCheckedContinuation { held.append($0) } }
        return answer
    }

    /// While holding, preparations wait (a download in progress) until `release()`.
    var holding = false
    var held: [CheckedContinuation<Void, Never>] = []

    func hold() { holding = true }

    func release() {
        holding = false
        for continuation in held { continuation.resume() }
        held = []
    }

    func fragment(identity: PackageIdentity, index: Int, size: Int) async -> [UInt8]? {
        fragmentReads += 1
        let start = index * size
        guard start < data.count else { return nil }
        return Array(data[start..<min(data.count, start + size)])
    }
}

/// A service on a manual clock with fakes on every side, and a scripted device.
struct Rig {
    static let sign = String(repeating: "ab", count: 32)

    let manual = ManualClock()
    let clock: GatewayClock
    let downlink = FakeDownlink()
    let reporter = FakeReporter()
    let packages: FakePackages
    let store: InMemoryUpgradeTaskStore
    let service: UpgradeService
    let product = ProductModel.Upgrade(fragmentSize: 100, checkCode: 0)

    init(config: GatewayConfig.Upgrade = GatewayConfig.Upgrade(), packageSize: Int = 1_000,
         answer: PackagePreparation? = nil, store: InMemoryUpgradeTaskStore = InMemoryUpgradeTaskStore(),
         cellLimit: @escaping @Sendable (RadioConditions?) -> Int? = Rig.coverageRule, log: LogRecorder? = nil) {
        clock = .manual(manual)
        packages = FakePackages(data: (0..<packageSize).map { UInt8(truncatingIfNeeded: $0 &* 7) }, answer: answer)
        self.store = store
        var logger = log?.logger(label: "upgrade-test", level: .info) ?? Logger(label: "upgrade-test")
        if log == nil { logger.logLevel = .critical }
        service = UpgradeService(config: config, cellLimit: cellLimit, packages: packages, downlink: downlink,
                                 reporter: reporter, store: store, clock: clock, logger: logger)
    }

    /// The spec's rule, simplified for tests: a cell with RSRP below -110 is level 2 (1 at a
    /// time), known coverage otherwise 50, cell known without coverage 10, cell unknown nil.
    static let coverageRule: @Sendable (RadioConditions?) -> Int? = { radio in
        guard let radio, radio.cellId != nil else { return nil }
        guard let rsrp = radio.rsrp else { return 10 }
        return rsrp < -110 ? 1 : 50
    }

    static func notice(version: String = "2.0", url: String = "https://files.example/pkg?token=1") -> UpgradeNotice {
        // A fixed, valid notice: a throwing initialiser with checked input.
        (try? UpgradeNotice(kind: .software, package: UpgradePackage(
            version: version, url: url, fileSize: 1_000, accessToken: "t", expires: 86_400, sign: sign)))!
    }

    func upgrade(_ nodeId: String, version: String = "2.0") async {
        await service.upgrade(nodeId: nodeId, notice: Self.notice(version: version), product: product, currentVersion: nil)
        await service.settle()
    }

    func device(_ nodeId: String, sends message: PCPMessage) async {
        guard let frame = try? PCPCodec.encode(message) else { return }
        await service.pcpFrame(frame, nodeId: nodeId)
    }

    func advance(_ duration: Duration) async {
        manual.advance(by: duration)
        await service.tick()
    }

    /// The device reports and answers the version query with `version`.
    func reportAndAnswer(_ nodeId: String, version: String = "1.0") async {
        await service.deviceReported(nodeId: nodeId)
        await device(nodeId, sends: .versionReport(result: .success, version: version))
    }

    /// The device downloads every fragment, reports the download, installs and reports `version`.
    func download(_ nodeId: String, count: Int, version: String = "2.0") async {
        for index in 0..<count {
            await device(nodeId, sends: .fragmentRequest(targetVersion: version, index: UInt16(index)))
        }
        await device(nodeId, sends: .downloadResult(.success))
        await device(nodeId, sends: .executeAnswer(.success))
        await device(nodeId, sends: .upgradeResult(result: .success, version: version))
    }

    func notified(_ nodeId: String) async -> Bool {
        await downlink.messages(to: nodeId).contains { if case .newVersion = $0 { return true } else { return false } }
    }
}

func isNewVersion(_ message: PCPMessage) -> Bool { if case .newVersion = message { return true } else { return false } }
func isFragment(_ message: PCPMessage) -> Bool { if case .fragment(.success, _, _) = message { return true } else { return false } }
