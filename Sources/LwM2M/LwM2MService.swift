import CoreMetrics
import Foundation
import GatewayCore
import Logging
import PCP

/// The LwM2M subsystem: runs the CoAP server, turns notifications into reports (PCP frames
/// aside), keeps presence, and delivers commands through per-device queues. The gateway routes
/// commands for NB-IoT children here (it is their `DownlinkHandler`). For upgrades it is the PCP
/// channel (`UpgradeDownlink`; PCP frames, reports and radio go to the `UpgradeUplinkHandler`:
/// LwM2MService+Upgrades.swift).
///
/// Time comes from the gateway's clock: instants for the command deadlines and the ticks, its
/// wall time for what is stored (queued commands) or sent (status and message times).
public actor LwM2MService: DownlinkHandler, FieldService {
    /// `name` of the device message that carries a command's outcome after the cloud's window
    /// (the message's `id` is the command's `request_id`).
    public static let commandResultMessageName = "command_result"
    /// A command's `paras["send_strategy"]` ("immediately" / "delay") overrides the default
    /// strategy. It is edgegw's, not the product's: taken out of `paras` before the codec sees them.
    public static let strategyParameter = "send_strategy"
    /// A command still waiting for its device is answered `queued` this long before its
    /// deadline, so the answer is with the bridge in time (with the bridge's 1 s trip margin,
    /// 17 s after the platform sent it).
    public static let queuedAnswerLead: Duration = .seconds(2)
    /// The most a graceful stop waits for command exchanges in flight before it answers them
    /// `queued` (they are persisted) and stops the server.
    public static let finishBound: Duration = .seconds(2)

    let server: LwM2MServer
    let directory: NBIoTDeviceDirectory
    private let decoder: UplinkPayloadHandler
    let encoder: DownlinkEncoder
    /// The upgrade side: PCP frames, "the device reported", its radio. Nil: PCP frames are
    /// counted and logged, not answered.
    var upgrades: (any UpgradeUplinkHandler)?
    /// Told of every Register, for the provisioning state. Nil: not recorded.
    var registrations: (any RegistrationRecorder)?
    let sink: UplinkSink
    let store: CommandQueueStore?
    let settings: LwM2MServiceSettings
    let clock: GatewayClock
    let logger: Logger

    private var presence = PresenceTracker<GatewayClock.Instant>()
    var queues: [String: CommandQueue] = [:]
    var productByNode: [String: String] = [:]
    var inFlightTags: [UInt64: (nodeId: String, mid: UInt16)] = [:]
    /// Tags of downlink writes and reads: one counter, so PCP writes (`pcpTags`) and radio reads
    /// (`radioReads`) never share a tag with a command (`inFlightTags`); 0 is "no result wanted".
    var nextTag: UInt64 = 1
    /// PCP writes awaiting their delivery result, by tag: their node.
    var pcpTags: [UInt64: String] = [:]
    /// Object 4 GETs awaiting their answer, by tag: their node.
    var radioReads: [UInt64: String] = [:]
    /// What each device said of its radio (object 4 and report properties merged).
    var radio: [String: RadioConditions] = [:]
    /// Object 4 resources still to read, by node (read one at a time).
    var radioPending: [String: [String]] = [:]
    /// Commands waiting for their device's answer (by request id), answered `queued` when due.
    var waiters: [String: (nodeId: String, continuation: CheckedContinuation<DownlinkOutcome, Never>)] = [:]
    /// Set by `finish()`: no new commands are taken.
    var finishing = false
    /// `finish()` waiting for the exchanges in flight to end (or its bound).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Between the server's start and the end of its events.
    private var serving = false
    /// `finish()` waiting for the last events to be handled.
    private var stoppedWaiters: [CheckedContinuation<Void, Never>] = []
    public internal(set) var stats = Stats()
    /// Time from a device's Register to the answer to the gateway's Observe: `registerToObserveMetric`.
    private let registerToObserve: CoreMetrics.Timer
    /// The histogram of Register→Observe times.
    public static let registerToObserveMetric = "edgegw_nbiot_register_to_observe_seconds"

    /// - Parameter clock: the gateway's clock (the daemon's one time base; a manual one in tests).
    public init(server: LwM2MServer, directory: NBIoTDeviceDirectory, decoder: UplinkPayloadHandler, encoder: DownlinkEncoder,
                sink: UplinkSink, store: CommandQueueStore? = nil, upgrades: (any UpgradeUplinkHandler)? = nil,
                settings: LwM2MServiceSettings = LwM2MServiceSettings(), clock: GatewayClock = .system(),
                logger: Logger = Logger(label: "edgegw.lwm2m"), metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        registerToObserve = CoreMetrics.Timer(label: Self.registerToObserveMetric, factory: metrics)
        self.server = server
        self.directory = directory
        self.decoder = decoder
        self.encoder = encoder
        self.upgrades = upgrades
        self.sink = sink
        self.store = store
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Sets (or removes) the upgrade side, when it is created after this service.
    public func attachUpgrades(_ handler: (any UpgradeUplinkHandler)?) {
        upgrades = handler
    }

    /// Restores queued commands, starts the server and serves until `finish()` has stopped it
    /// (then every event the server had is handled first) or until cancelled.
    public func run() async throws {
        try await restore()
        guard !finishing else { return } // stopped before it started
        try server.start()
        serving = true
        defer {
            server.stop()
            stopped()
        }
        let clock = clock, tickInterval = settings.tickInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for await event in self.server.events { await self.handle(event) } }
            group.addTask {
                while !Task.isCancelled {
                    try await clock.sleep(for: tickInterval)
                    await self.tick()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The graceful stop (SIGTERM): new commands are refused (`internalError`, "shutting
    /// down"); commands waiting for their device get until their answer is due, at most
    /// `finishBound`, then are answered `queued` (they are persisted, and go after the restart);
    /// the server stops, and what it had received (reports, statuses) is handed to the sink
    /// before this returns. `run()` returns with it.
    public func finish() async {
        guard !finishing else { return }
        finishing = true
        logger.info("lwm2m stopping", metadata: ["commands_waiting": "\(waiters.count)", "in_flight": "\(inFlightTags.count)"])
        if !isIdle {
            let clock = clock, end = clock.now.advanced(by: Self.finishBound)
            let timer = Task {
                try? await clock.sleep(until: end)
                self.stopWaitingForIdle()
            }
            await withCheckedContinuation { idleWaiters.append($0) }
            timer.cancel()
        }
        for (requestId, waiter) in waiters { answerQueued(requestId: requestId, nodeId: waiter.nodeId) }
        server.stop()
        if serving { await withCheckedContinuation { stoppedWaiters.append($0) } }
        logger.info("lwm2m stopped", metadata: ["queued_commands": "\(queues.values.reduce(0) { $0 + $1.entries.count })"])
    }

    private var isIdle: Bool { waiters.isEmpty && inFlightTags.isEmpty }

    private func stopWaitingForIdle() {
        let resumed = idleWaiters
        idleWaiters = []
        resumed.forEach { $0.resume() }
    }

    func checkIdle() {
        if isIdle { stopWaitingForIdle() }
    }

    private func stopped() {
        serving = false
        let resumed = stoppedWaiters
        stoppedWaiters = []
        resumed.forEach { $0.resume() }
    }

    private func restore() async throws {
        guard let store else { return }
        let commands = try await store.loadAll()
        for (nodeId, list) in Dictionary(grouping: commands, by: \.nodeId) {
            queues[nodeId] = CommandQueue(nodeId: nodeId, restoring: list, expiry: settings.commandExpiry,
                                          awakeWindow: settings.awakeWindow, resultWait: settings.resultWait)
        }
        if !commands.isEmpty { logger.info("lwm2m restored queued commands", metadata: ["count": "\(commands.count)"]) }
    }

    /// Sets (or removes) what records each device's registrations.
    public func attachRegistrationRecorder(_ recorder: (any RegistrationRecorder)?) {
        registrations = recorder
    }

    // MARK: - Server events

    public func handle(_ event: LwM2MServerEvent) async {
        // Presence ages on the clock's instants; command queues and the cloud get wall time
        // (a queued command's times are stored and must mean the same after a restart).
        let now = clock.now
        let time = clock.wallTime()
        switch event {
        case .registered(let info):
            await registrations?.registered(nodeId: info.nodeId, at: time)
            productByNode[info.nodeId] = info.productId
            if info.observedPath == nil { warnNoDataResource(info) }
            await publish(presence.registered(info.nodeId, at: now), at: time)
            await execute(withQueue(info.nodeId) { $0.deviceReachable(at: time) }, nodeId: info.nodeId)
            await registeredForUpgrades(info)
        case .updated(let nodeId):
            await execute(withQueue(nodeId) { $0.deviceReachable(at: time) }, nodeId: nodeId)
            await upgrades?.deviceReported(nodeId: nodeId)
        case .offline(let nodeId, _):
            queues[nodeId]?.deviceUnreachable()
            forgetUpgradeExchanges(nodeId)
            await publish(presence.registrationEnded(nodeId, at: now), at: time)
        case .observing(let nodeId, let latency):
            registerToObserve.recordNanoseconds(latency.inNanoseconds)
            await registrations?.observed(nodeId: nodeId)
        case .observeFailed(let nodeId, let reason):
            logger.warning("lwm2m observe failed", metadata: ["node": "\(nodeId)", "reason": "\(reason)"])
        case .uplink(let nodeId, let productId, let payload, _):
            productByNode[nodeId] = productId
            await uplink(nodeId: nodeId, productId: productId, payload: payload, at: time, instant: now)
        case .downlinkResult(let tag, let nodeId, let result):
            if let pcpNode = pcpTags.removeValue(forKey: tag) {
                pcpDelivered(nodeId: pcpNode, result: result)
            } else {
                await downlinkResult(tag: tag, nodeId: nodeId, result: result, at: time)
            }
        case .resourceRead(let tag, let nodeId, let path, let result):
            await radioRead(tag: tag, nodeId: nodeId, path: path, result: result)
        }
    }

    /// A registration whose object list names none of the data resources: nothing was observed,
    /// so no data can arrive until the device list names its resources or the device announces one.
    private func warnNoDataResource(_ info: RegistrationInfo) {
        let configured = directory.device(nodeId: info.nodeId)?.resources.map { "\($0.uplink) (uplinkPath), " } ?? ""
        logger.warning("lwm2m device announces no data resource: not observed, no data will arrive", metadata: [
            "node": "\(info.nodeId)", "object_list": "\(info.objectLinks.joined(separator: ",").prefix(200))",
            "looked_for": "\(configured)\(DataResources.tup.uplink), \(DataResources.lwm2m.uplink)",
            "fix": "set uplinkPath and downlinkPath for it in the device list to a resource it announces",
        ])
    }

    private func uplink(nodeId: String, productId: String, payload: [UInt8], at time: Date, instant: GatewayClock.Instant) async {
        await publish(presence.data(nodeId, at: instant), at: time)
        let device = directory.device(nodeId: nodeId) ?? NBIoTDevice(nodeId: nodeId, productId: productId, secure: false)
        let verdict = device.pcpRecognition(payload)
        // A PSM device listens only right after it sends: a task waiting for it may start now.
        await upgrades?.deviceReported(nodeId: nodeId)
        if verdict == .pcp {
            await pcpFrameReceived(payload, nodeId: nodeId)
        } else {
            if payload.starts(with: [0xFF, 0xFE]) {
                // Business data must not start with PCP's marker (spec §2.9); it still goes to the codec.
                logger.debug("lwm2m payload starts with FF FE but is not PCP: business data",
                             metadata: ["node": "\(nodeId)", "failed_check": "\(verdict)"])
            }
            switch decoder.decodeUplink(nodeId: nodeId, productId: productId, payload: payload) {
            case .report(let services, let response):
                stats.reports += 1
                await sink.report(nodeId: nodeId, services: services)
                await reportedRadio(services, nodeId: nodeId)
                if let response {
                    stats.reportResponses += 1
                    server.send(Downlink(nodeId: nodeId, payload: response, tag: 0))
                }
            case .commandResponse(let mid, let success, let paras):
                await execute(withQueue(nodeId) { $0.responded(mid: mid, success: success, paras: paras, at: time) }, nodeId: nodeId)
            case .undecodable(let reason):
                stats.undecodable += 1
                logger.warning("lwm2m uplink not decodable", metadata: ["node": "\(nodeId)", "reason": "\(reason)", "bytes": "\(payload.count)"])
            }
        }
        // Cached commands go when the device reports (it listens briefly after an uplink).
        await execute(withQueue(nodeId) { $0.deviceReachable(at: time) }, nodeId: nodeId)
    }

    private func downlinkResult(tag: UInt64, nodeId: String, result: DownlinkDeliveryResult, at time: Date) async {
        guard tag != 0, let target = inFlightTags.removeValue(forKey: tag) else { return }
        defer { checkIdle() }
        let actions = withQueue(target.nodeId) { queue -> [CommandQueue.Action] in
            switch result {
            case .acknowledged:
                return queue.acknowledged(mid: target.mid, at: time)
            case .refused(let code):
                _ = queue.acknowledged(mid: target.mid, at: time)
                return queue.responded(mid: target.mid, success: false, paras: ["coap_code": .int(Int64(code))], at: time)
            case .timedOut:
                return queue.deliveryFailed(mid: target.mid, timedOut: true, at: time)
            case .reset, .notReachable:
                return queue.deliveryFailed(mid: target.mid, timedOut: false, at: time)
            case .tooLarge:
                return queue.encodingFailed(mid: target.mid, reason: "encoded command exceeds the payload limit", at: time)
            }
        }
        await execute(actions, nodeId: target.nodeId)
    }

    private func tick() async {
        let time = clock.wallTime()
        await publish(presence.tick(at: clock.now), at: time)
        for (nodeId, queue) in queues {
            guard let deadline = queue.nextDeadline, deadline <= time else { continue }
            var changed = queue
            let actions = changed.tick(at: time)
            queues[nodeId] = changed
            await execute(actions, nodeId: nodeId)
        }
    }

    private func publish(_ changes: [PresenceTracker<GatewayClock.Instant>.Change], at time: Date) async {
        for change in changes { await sink.statusChanged(nodeId: change.nodeId, status: change.status, at: time) }
    }
}

/// Told of every Register (not an Update), with the gateway's wall time: `edgegw provision list`
/// shows when each device last registered.
public protocol RegistrationRecorder: Sendable {
    func registered(nodeId: String, at time: Date) async
    /// The device's data resource is observed: it got through (a bootstrap loop, if any, is over).
    func observed(nodeId: String) async
}

extension RegistrationRecorder {
    public func observed(nodeId: String) async {}
}
