import Foundation
import GatewayCore
import IoTDA
import Logging
import PCP

/// The site's PCP upgrades (docs/upgrade.md): one task per child, from the cloud's `$ota` notice
/// to the final `upgrade_progress_report`. Each task is a `PCPUpgradeMachine`; this actor only
/// executes their actions (send a frame, serve a fragment, report, log), arms one timer for the
/// earliest deadline, lets devices start under the fan-out limits and the fragments/s budget,
/// and stores every task so a restart continues it.
public actor UpgradeService: UpgradeUplinkHandler {
    typealias Machine = PCPUpgradeMachine<GatewayClock>

    /// One child's task.
    struct UpgradeTask {
        var notice: UpgradeNotice
        var fragmentSize: Int
        var checkCode: UInt16
        /// Tells a late package answer for a replaced task from the current one.
        var generation: Int
        var package: PackageIdentity?
        var packageSize: Int?
        /// Nil while the package is being prepared.
        var machine: Machine?
        /// The task holds a fan-out slot.
        var permitted = false
        /// The slot was granted while the device was not in contact: `.startPermitted` goes to
        /// the machine on the device's next report.
        var permitDue = false
        /// A request (0x13, 0x14, 0x17) the field side could not deliver: sent again on the
        /// device's next report, never in a loop.
        var undelivered: PCPMessage?
        /// When the task ended; an ended task stays a while to answer the device's late requests.
        var endedAt: GatewayClock.Instant?

        var isActive: Bool { endedAt == nil }
    }

    struct DelayedFragment {
        var due: GatewayClock.Instant
        var nodeId: String
        var index: UInt16
    }

    let config: GatewayConfig.Upgrade
    let packages: any PackageSource
    let downlink: any UpgradeDownlink
    let reporter: any UpgradeReporter
    let store: any UpgradeTaskStore
    let clock: GatewayClock
    let logger: Logger

    var tasks: [String: UpgradeTask] = [:]
    var fanOut: UpgradeFanOut
    var budget: FragmentBudget<GatewayClock.Instant>
    var delayed: [DelayedFragment] = []
    var delayedKeys: Set<String> = []
    var counters = UpgradeCounters()
    var generation = 0

    /// The version each device last reported (0x13 answer, 0x18, or the cloud's notice).
    var knownVersions: [String: String] = [:]
    /// The kind (firmware/software) of each child's last notice: the field its version is reported in.
    var lastKind: [String: UpgradeKind] = [:]
    /// Open `version_query`s: the instant the answer is due by.
    var versionQueries: [String: GatewayClock.Instant] = [:]
    /// Version queries whose 0x13 could not be delivered yet.
    var versionQueryUnsent: Set<String> = []
    /// Per device without a task: the last 0x80 answer (only the first of a run is logged).
    var noTaskRejectAt: [String: GatewayClock.Instant] = [:]
    var decodeLog: LogRateLimit<GatewayClock.Instant> = LogRateLimit(perWindow: 5, window: .seconds(60))
    var readLog: LogRateLimit<GatewayClock.Instant> = LogRateLimit(perWindow: 5, window: .seconds(60))

    var inflight: [Int: Task<Void, Never>] = [:]
    var nextInflight = 0
    var restored = false
    var finishing = false
    var sleeper: Task<Void, Never>?
    var sleepingUntil: GatewayClock.Instant?

    /// When each device last sent anything (for a task whose package became ready just after).
    var lastContact: [String: GatewayClock.Instant] = [:]
    /// A device that reported this recently when its package became ready is taken as still
    /// reachable: its task starts at once instead of waiting for its next report.
    static let recentContact: Duration = .seconds(30)
    /// How long an ended task keeps answering its device's late requests.
    static let endedRetention: Duration = .seconds(3600)

    public init(config: GatewayConfig.Upgrade,
                cellLimit: @escaping @Sendable (RadioConditions?) -> Int?,
                packages: any PackageSource, downlink: any UpgradeDownlink, reporter: any UpgradeReporter,
                store: any UpgradeTaskStore, clock: GatewayClock = .system(),
                logger: Logger = Logger(label: "edgegw.upgrade")) {
        self.config = config
        self.packages = packages
        self.downlink = downlink
        self.reporter = reporter
        self.store = store
        self.clock = clock
        self.logger = logger
        fanOut = UpgradeFanOut(globalCap: config.maxConcurrentUpgrades, unknownCellCap: config.unknownCellCap, cellLimit: cellLimit)
        budget = FragmentBudget(perSecond: config.maxFragmentsPerSecond)
    }

    // MARK: - From the cloud

    /// A checked `software_upgrade` / `firmware_upgrade` (or `_v2`) notice for a child whose
    /// product upgrades over PCP. `currentVersion` is what the gateway knows of the child's
    /// version, if anything.
    public func upgrade(nodeId: String, notice: UpgradeNotice, product: ProductModel.Upgrade, currentVersion: String? = nil) async {
        if let currentVersion, !currentVersion.isEmpty, knownVersions[nodeId] == nil { knownVersions[nodeId] = currentVersion }
        if let task = tasks[nodeId], task.isActive {
            if task.notice.version == notice.version {
                // The same task again (the platform re-sent its notice): one task, no conflict.
                logger.info("\(nodeId): upgrade notice for \(notice.version) again while its task runs; kept the running task",
                            metadata: ["node": "\(nodeId)"])
                return
            }
            counters.conflicts += 1
            let phase = task.machine.map { "\($0.phase)" } ?? "PREPARING"
            let description = "task conflict: an upgrade to \(task.notice.version) is in progress (\(phase)); \(notice.version) refused"
            logger.warning("\(nodeId): \(description)", metadata: ["node": "\(nodeId)"])
            await reporter.progress(nodeId: nodeId, UpgradeProgress(
                resultCode: .deviceInUse, version: knownVersions[nodeId] ?? "", description: description))
            return
        }
        lastKind[nodeId] = notice.kind
        generation += 1
        // Taken now: other notices may run (and count on) while this one awaits its storage.
        let taskGeneration = generation
        let checkCode = UInt16(clamping: product.checkCode)
        tasks[nodeId] = UpgradeTask(notice: notice, fragmentSize: product.fragmentSize, checkCode: checkCode, generation: taskGeneration)
        logger.info("\(nodeId): PCP upgrade created → PREPARING (attempt 1): \(notice.eventType) to \(notice.version); fetching the package",
                    metadata: ["node": "\(nodeId)"])
        await persist(nodeId)
        startPreparation(nodeId: nodeId, notice: notice, generation: taskGeneration)
    }

    /// `version_query` for a child: `version_report` now from the version the device last
    /// reported; else a 0x13 to the device, answered when its report comes within
    /// `OTALimits.versionReportWindow`. No answer in time: nothing is reported (an empty report
    /// says nothing) and a warning is logged.
    public func versionQuery(nodeId: String) async {
        if let version = knownVersions[nodeId] {
            await reportVersion(nodeId: nodeId, version)
            return
        }
        let due = clock.now.advanced(by: OTALimits.versionReportWindow)
        versionQueries[nodeId] = due
        wake(at: due)
        if !(await send(.queryVersion, to: nodeId)) { versionQueryUnsent.insert(nodeId) }
    }

    /// The cloud withdrew the child's task (or the gateway drops it): it ends with 255.
    public func cancel(nodeId: String) async {
        guard let task = tasks[nodeId], task.isActive else { return }
        if task.machine != nil {
            await dispatch(.cancel(.withdrawn), to: nodeId, inContact: false)
        } else {
            await end(nodeId: nodeId, result: .internalError, description: "the upgrade task was withdrawn before its package was ready")
        }
    }

    /// The package source found, after the fact, that a package is bad (its file changed on disk,
    /// a re-check failed): every task of it ends with `result` (7: nothing more is served).
    public func packageFailed(identity: PackageIdentity, result: PCPResult, description: String) async {
        for (nodeId, task) in tasks where task.isActive && task.package == identity {
            await failPackage(nodeId: nodeId, result: result, description: description)
        }
    }

    // MARK: - Status

    public func status() -> UpgradeCounters {
        var c = counters
        c.preparing = 0
        c.waitingForDevice = 0
        for task in tasks.values where task.isActive {
            if task.machine == nil { c.preparing += 1 } else if !task.permitted && task.machine?.phase != .waitForPermit { c.waitingForDevice += 1 }
        }
        c.waitingForSlot = fanOut.waiting.count
        c.running = fanOut.running.count
        return c
    }

    /// The phase of a child's task (PREPARING is nil with `hasTask`), for status and tests.
    public func phase(of nodeId: String) -> PCPUpgradePhase? { tasks[nodeId]?.machine?.phase }

    public func hasActiveTask(_ nodeId: String) -> Bool { tasks[nodeId]?.isActive ?? false }

    /// Waits until every package request in flight has been answered (tests, shutdown).
    public func settle() async {
        while let entry = inflight.first {
            await entry.value.value
        }
    }

    // MARK: - Package

    func startPreparation(nodeId: String, notice: UpgradeNotice, generation: Int) {
        let id = nextInflight
        nextInflight += 1
        let packages = self.packages
        inflight[id] = Task { [weak self] in
            let result = await packages.prepare(notice, for: nodeId)
            await self?.prepared(nodeId: nodeId, generation: generation, result, inflight: id)
        }
    }

    func prepared(nodeId: String, generation: Int, _ result: PackagePreparation, inflight id: Int) async {
        defer { inflight[id] = nil }
        guard var task = tasks[nodeId], task.isActive, task.generation == generation else { return }
        switch result {
        case .failed(let code, let description):
            await failPackage(nodeId: nodeId, result: code, description: description)
        case .ready(let identity, let size):
            task.package = identity
            task.packageSize = size
            tasks[nodeId] = task
            if task.machine != nil {
                await persist(nodeId)
                return
            }
            let settings: PCPUpgradeSettings
            do {
                settings = try PCPUpgradeSettings(
                    targetVersion: task.notice.version, packageSize: size, fragmentSize: task.fragmentSize,
                    checkCode: task.checkCode, retryCount: config.retryCount, retryInterval: config.retryInterval)
            } catch {
                await end(nodeId: nodeId, result: .internalError, description: "the upgrade cannot be sent over PCP: \(error)")
                return
            }
            logger.info("\(nodeId): package \(identity) ready (\(size) bytes, \(settings.fragmentCount) fragments of \(settings.fragmentSize) bytes)",
                        metadata: ["node": "\(nodeId)"])
            let (machine, actions) = Machine.create(settings: settings, now: clock.now)
            task.machine = machine
            tasks[nodeId] = task
            await perform(actions, nodeId: nodeId, inContact: false)
            if let contact = lastContact[nodeId], contact.duration(to: clock.now) <= Self.recentContact {
                // The device reported while the package was being fetched and is likely awake.
                await dispatch(.deviceReported, to: nodeId, inContact: true)
            }
        }
    }

    /// The package of the task cannot be served: 7 through the machine (nothing more served),
    /// any other result ends the task with the source's words.
    func failPackage(nodeId: String, result: PCPResult, description: String) async {
        guard let task = tasks[nodeId], task.isActive else { return }
        if task.machine != nil, result == .verificationFailed {
            await dispatch(.cancel(.packageVerificationFailed), to: nodeId, inContact: false)
        } else {
            await end(nodeId: nodeId, result: result, description: description)
        }
    }
}
