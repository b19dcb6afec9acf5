import Foundation
import GatewayCore
import IoTDA
import Logging
import Store

/// Between the field and the cloud session: field reports and statuses go into the outbox as
/// IoTDA payloads; downlink publishes are decoded and routed by `object_device_id` to the
/// subsystem that owns the child; platform events drive `ChildSync`.
///
/// Everything the cloud should receive goes through the outbox, so it survives outages and
/// restarts; the session only drains it, in order. A child's data is queued only after its
/// ONLINE (UG 3.10: status first); until then it is held here, at most
/// `maxHeldReportsPerChild` reports per child.
actor CloudBridge: UplinkSink {
    /// Field reports gathered for at most this long go out in one gateway batch report.
    static var reportBatchWindow: Duration { .milliseconds(200) }
    /// Kept back from the platform's window (`CommandRequest.responseWindow`) for the answer's
    /// trip through the outbox and the link: a request's deadline is its arrival plus the window
    /// less this margin.
    static var downlinkTripMargin: Duration { .seconds(1) }
    /// Reports kept per child while its ONLINE is not queued yet (normally under a second: the
    /// status coalescing window). Beyond it the oldest are dropped, counted and logged once.
    static var maxHeldReportsPerChild: Int { 64 }

    let topics: IoTDATopics
    private let store: StateStore
    private let outbox: any OutboxWriting
    let clock: GatewayClock
    let logger: Logger
    var sync: ChildSync<GatewayClock.Instant>
    private var sources: [String: ChildSource]
    private var handlers: [ChildSource: any DownlinkHandler] = [:]
    private var pendingReports: [(nodeId: String, properties: DeviceProperties)] = []
    private var pendingChildren = Set<String>()
    private var reportFlushDue: GatewayClock.Instant?
    /// Reports of children whose ONLINE is not queued yet, by node id, oldest first.
    private var heldReports: [String: [[ServiceReport]]] = [:]
    /// Children whose held reports overflowed, or whose reports are dropped as deleted, since
    /// that was last logged (one line per child, not one per report).
    private var quietlyDropping = Set<String>()
    var counters = Counters()

    struct Counters: Equatable {
        var reports = 0
        var batchMessages = 0
        /// Reports that waited for their child's ONLINE.
        var heldReports = 0
        /// Held reports dropped: the child's ONLINE did not come before `maxHeldReportsPerChild` more.
        var heldReportsDropped = 0
        /// Reports and events of children the platform deleted, dropped.
        var deletedChildDrops = 0
        var downlinkRequests = 0
        var downlinkRejected = 0
        var downlinkTimeouts = 0
        var badDownlink = 0
    }

    init(gatewayDeviceId: String, store: StateStore, outbox: any OutboxWriting, children: [ChildDevice], clock: GatewayClock,
         logger: Logger) {
        topics = IoTDATopics(deviceId: gatewayDeviceId)
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.logger = logger
        let version = (try? store.subDeviceVersion()) ?? nil
        sync = ChildSync(gatewayDeviceId: gatewayDeviceId, version: version, children: children,
                         makeEventId: { UUID().uuidString.lowercased() })
        sources = Dictionary(children.map { ($0.nodeId, $0.source) }, uniquingKeysWith: { a, _ in a })
    }

    /// Where the children's `$ota` events go (nil: upgrades are not configured here).
    var ota: (any OTAEventHandler)?

    func registerUpgrades(_ handler: any OTAEventHandler) {
        ota = handler
    }

    /// The subsystem that answers commands for children of `source`.
    func register(_ handler: any DownlinkHandler, for source: ChildSource) {
        handlers[source] = handler
    }

    /// The topics the session must subscribe to.
    nonisolated var subscriptions: [String] { topics.downlinkSubscriptions }

    // MARK: - Session events

    func connected() {
        logger.info("cloud connected: syncing children")
        execute(sync.connected(now: clock.now))
    }

    func disconnected() {
        sync.disconnected()
    }

    /// Timers; the service calls this every `CloudService.tickInterval`.
    func tick() {
        let now = clock.now
        if let due = reportFlushDue, due <= now { flushReports() }
        execute(sync.tick(now: now))
    }

    // MARK: - UplinkSink

    func report(nodeId: String, services: [ServiceReport]) async {
        switch sync.reportRoute(of: nodeId) {
        case .unknown:
            logger.warning("report from unknown child \(nodeId) dropped")
        case .deleted:
            counters.deletedChildDrops += 1
            if quietlyDropping.insert(nodeId).inserted {
                logger.info("dropping reports of child \(nodeId): the platform deleted it")
            }
        case .hold:
            counters.reports += 1
            counters.heldReports += 1
            var held = heldReports[nodeId, default: []]
            held.append(services)
            if held.count > Self.maxHeldReportsPerChild {
                held.removeFirst(held.count - Self.maxHeldReportsPerChild)
                counters.heldReportsDropped += 1
                if quietlyDropping.insert(nodeId).inserted {
                    logger.warning("child \(nodeId) reports, but its ONLINE has not gone to the cloud yet (not added, or its state not known): keeping its last \(Self.maxHeldReportsPerChild) reports, dropping older ones")
                }
            }
            heldReports[nodeId] = held
        case .send(let deviceId):
            counters.reports += 1
            queue(nodeId: nodeId, deviceId: deviceId, services: services)
        }
    }

    private func queue(nodeId: String, deviceId: String, services: [ServiceReport]) {
        pendingReports.append((nodeId, DeviceProperties(deviceId: deviceId, services: services.map { ServiceProperty($0) })))
        pendingChildren.insert(deviceId)
        if pendingChildren.count >= BatchPropertyReport.maxDevicesPerReport {
            flushReports()
        } else if reportFlushDue == nil {
            reportFlushDue = clock.now.advanced(by: Self.reportBatchWindow)
        }
    }

    /// Queues the held reports of every child whose ONLINE is now queued, behind it.
    private func releaseHeldReports() {
        var released = false
        for nodeId in heldReports.keys.sorted() {
            guard case .send(let deviceId) = sync.reportRoute(of: nodeId), let held = heldReports.removeValue(forKey: nodeId) else { continue }
            quietlyDropping.remove(nodeId)
            for services in held { queue(nodeId: nodeId, deviceId: deviceId, services: services) }
            released = true
        }
        if released { flushReports() }
    }

    /// The platform deleted the child: what waits for it here is not sent.
    private func forget(nodeId: String) {
        heldReports[nodeId] = nil
        quietlyDropping.remove(nodeId)
        let before = pendingReports.count
        pendingReports.removeAll { $0.nodeId == nodeId }
        if pendingReports.count != before {
            counters.deletedChildDrops += before - pendingReports.count
            pendingChildren = Set(pendingReports.map(\.properties.deviceId))
        }
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {
        execute(sync.statusChanged(nodeId: nodeId, status: status, now: clock.now))
        try? store.setChildStatus(nodeId: nodeId, status: status, lastSeen: time)
    }

    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {
        guard let deviceId = sync.deviceId(of: nodeId) else {
            if sync.reportRoute(of: nodeId) == .deleted {
                counters.deletedChildDrops += 1
                if quietlyDropping.insert(nodeId).inserted { logger.info("dropping messages of child \(nodeId): the platform deleted it") }
            } else {
                logger.info("message \(name) of child \(nodeId) dropped: the platform does not have the child yet")
            }
            return
        }
        let message = MessageUp(objectDeviceId: deviceId, name: name, id: id, content: .object(content))
        append(kind: .message, nodeId: nodeId) { try topics.publication(message) }
    }

    /// Writes pending field reports as gateway batch reports (≤100 children each).
    func flushReports() {
        reportFlushDue = nil
        guard !pendingReports.isEmpty else { return }
        let reports = BatchPropertyReport.split(pendingReports.map(\.properties))
        pendingReports.removeAll(keepingCapacity: true)
        pendingChildren.removeAll(keepingCapacity: true)
        var messages: [OutboxMessage] = []
        for report in reports {
            do {
                let publication = try topics.publication(report)
                messages.append(OutboxMessage(kind: .propertyReport, topic: publication.topic, payload: [UInt8](publication.payload)))
            } catch {
                logger.error("cannot encode a batch property report: \(error)")
            }
        }
        do {
            // Drops for the outbox bound are counted by the outbox and logged by the pump.
            counters.batchMessages += try outbox.append(messages).ids.count
        } catch {
            logger.error("cannot queue property reports: \(error)")
        }
    }

    // MARK: - Downlink

    /// A publish from the cloud. Never throws: bad input is logged and, where the protocol
    /// has an answer, answered.
    func received(topic: String, payload: Data) {
        let kind: DownlinkTopic
        do {
            kind = try topics.classify(topic)
        } catch {
            counters.badDownlink += 1
            logger.warning("ignoring a publish on an unexpected topic: \(error)")
            return
        }
        let decoded: DownlinkPayload
        do {
            decoded = try DownlinkPayload.decode(topic: kind, payload: payload)
        } catch {
            counters.badDownlink += 1
            logger.warning("bad downlink payload on \(topic): \(error)")
            answerFailure(kind, .badRequest, "bad request: \(error)")
            return
        }
        switch decoded {
        case .command(let requestId, let request):
            route(kind, requestId: requestId, objectDeviceId: request.objectDeviceId) { handler, nodeId, deadline in
                let outcome = await handler.command(request.childCommand(requestId: requestId, nodeId: nodeId), deadline: deadline)
                return try self.topics.publication(requestId: requestId, CommandResponse(outcome))
            }
        case .propertiesSet(let requestId, let request):
            // Repeated services are merged, and the work one set may cause is bounded, before
            // any field device sees it.
            let services: [ServiceProperty]
            do {
                services = try request.mergedServices()
            } catch {
                counters.downlinkRequests += 1
                counters.downlinkRejected += 1
                logger.warning("property set \(requestId) refused: \(error)")
                answerFailure(kind, .badRequest, error.description)
                return
            }
            route(kind, requestId: requestId, objectDeviceId: request.objectDeviceId) { handler, nodeId, deadline in
                let outcome = await handler.setProperties(requestId: requestId, nodeId: nodeId,
                                                          services: services.map(\.serviceReport), deadline: deadline)
                return try self.topics.publication(requestId: requestId, PropertiesSetResponse(outcome))
            }
        case .propertiesGet(let requestId, let request):
            route(kind, requestId: requestId, objectDeviceId: request.objectDeviceId) { handler, nodeId, deadline in
                switch await handler.getProperties(requestId: requestId, nodeId: nodeId, serviceId: request.serviceId,
                                                   deadline: deadline) {
                case .success(let reports):
                    return try self.topics.publication(requestId: requestId, PropertiesGetResponse(services: reports.map { ServiceProperty($0, timeFormat: .seconds) }))
                case .failure(let error):
                    return try self.topics.publication(requestId: requestId, PropertiesGetResponse.failure(error))
                }
            }
        case .events(let events):
            for error in events.errors {
                counters.badDownlink += 1
                logger.warning("bad event from the cloud: \(error)")
            }
            for event in events.events where event.event.serviceId != IoTDAEvent.ServiceID.ota { receivedEvent(event) }
            receivedOTA(payload)
        case .message(let message):
            logger.info("message from the cloud for \(message.objectDeviceId ?? "the gateway") not delivered: field devices here take commands, not messages")
        case .shadowGetResponse, .custom, .unknown:
            logger.debug("ignoring \(topic)")
        }
    }

    private func receivedEvent(_ event: EventService) {
        switch event.event {
        case .addSubDeviceNotify, .deleteSubDeviceNotify, .addSubDeviceResponse, .deleteSubDeviceResponse,
             .subDeviceUpdateStatusResponse:
            execute(sync.received(event, now: clock.now))
        default:
            logger.info("cloud event \(event.event.serviceId)/\(event.event.eventType) is not handled by this version")
        }
    }

    /// Finds the child's subsystem and answers within the window, whatever the subsystem does:
    /// the deadline is made here, once, when the request arrives; the subsystem gets it and
    /// answers by it, and if it does not, the answer at the deadline is `timeout`.
    private func route(_ kind: DownlinkTopic, requestId: String, objectDeviceId: String?,
                       _ call: @escaping @Sendable (any DownlinkHandler, String, GatewayClock.Instant) async throws -> Publication) {
        let deadline = clock.now.advanced(by: CommandRequest.responseWindow - Self.downlinkTripMargin)
        counters.downlinkRequests += 1
        guard let objectDeviceId, objectDeviceId != topics.deviceId else {
            counters.downlinkRejected += 1
            answerFailure(kind, .noHandler, "the gateway itself has no commands or properties; address a child with object_device_id")
            return
        }
        guard let nodeId = sync.nodeId(ofDeviceId: objectDeviceId) else {
            counters.downlinkRejected += 1
            answerFailure(kind, .unknownChild, "unknown child device \(objectDeviceId)")
            return
        }
        guard let source = sources[nodeId], let handler = handlers[source] else {
            counters.downlinkRejected += 1
            answerFailure(kind, .noHandler, "no handler for child \(nodeId) yet")
            return
        }
        let clock = self.clock
        Task {
            let answer: Publication? = await withTaskGroup(of: Publication?.self) { group in
                group.addTask { try? await call(handler, nodeId, deadline) }
                group.addTask {
                    try? await clock.sleep(until: deadline)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            await self.finish(kind, requestId: requestId, nodeId: nodeId, answer: answer)
        }
    }

    private func finish(_ kind: DownlinkTopic, requestId: String, nodeId: String, answer: Publication?) {
        if let answer {
            append(kind: .commandResponse, nodeId: nodeId) { answer }
        } else {
            counters.downlinkTimeouts += 1
            answerFailure(kind, .timeout, "child \(nodeId) did not answer within the platform's \(Int(CommandRequest.responseWindow.seconds)) s window")
        }
    }

    private func answerFailure(_ kind: DownlinkTopic, _ code: DownlinkResultCode, _ description: String) {
        append(kind: .commandResponse, nodeId: nil) {
            guard let publication = try topics.failureResponse(to: kind, code: code, description: description) else {
                throw NoAnswer()
            }
            return publication
        }
    }

    private struct NoAnswer: Error {}

    // MARK: - Executing actions

    private func execute(_ actions: [ChildSync<GatewayClock.Instant>.Action]) {
        var statusQueued = false
        for action in actions {
            switch action {
            case .publish(let kind, let event, let nodeId, let eventId):
                // Data already gathered goes ahead of a status change: a child going OFFLINE
                // sends its last values first.
                if kind == .statusUpdate { flushReports() }
                let message = EventsMessage(objectDeviceId: topics.deviceId, event, at: clock.wallTime(), eventId: eventId)
                append(kind: kind, nodeId: nodeId) { try topics.publication(message) }
                if kind == .statusUpdate { statusQueued = true }
            case .saveDeviceId(let nodeId, let deviceId):
                do { try store.setChildDeviceId(nodeId: nodeId, deviceId: deviceId) } catch { logger.error("\(error)") }
            case .saveVersion(let version):
                do { try store.setSubDeviceVersion(version) } catch { logger.error("\(error)") }
            case .saveStatus(let nodeId, let status):
                do { try store.setChildStatus(nodeId: nodeId, status: status, lastSeen: nil) } catch { logger.error("\(error)") }
            case .forget(let nodeId):
                forget(nodeId: nodeId)
            case .log(.info, let text): logger.info("\(text)")
            case .log(.warning, let text): logger.warning("\(text)")
            case .log(.error, let text): logger.error("\(text)")
            }
        }
        // A child whose ONLINE was just queued: its held data follows it.
        if statusQueued { releaseHeldReports() }
    }

    func append(kind: OutboxKind, nodeId: String?, _ make: () throws -> Publication) {
        do {
            let publication = try make()
            try outbox.append([OutboxMessage(kind: kind, topic: publication.topic, payload: [UInt8](publication.payload), nodeId: nodeId)])
        } catch is NoAnswer {
            return
        } catch {
            logger.error("cannot queue a \(kind) message: \(error)")
        }
    }
}
