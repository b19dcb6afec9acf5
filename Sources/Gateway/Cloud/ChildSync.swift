import Foundation
import GatewayCore
import IoTDA
import Store

/// The gateway's side of the platform's child-device contract (spec mqtt-gateway §2.10, §4;
/// UG 3.10): add children the cloud does not know yet, follow add/delete notifications, sync the
/// list after every connect, and report statuses, coalesced, re-sending them all after a connect.
///
/// What the platform may hear about a child, and when:
/// - its status only once the field has said it (the status stored by an earlier run is not
///   reported: a slave that answers must not flap OFFLINE at start);
/// - its data only after its ONLINE has been queued (`reportRoute(of:)`), so the platform sees
///   the child come online before its first property report;
/// - nothing at all once the platform has deleted it, until the platform adds it again (or this
///   gateway adds it at the next restart).
///
/// Every status goes through one coalescing window, whatever caused it (a field change, an add
/// response, an add notify, a connect), so n statuses within a window take ⌈n/100⌉ messages.
///
/// Pure: events in, actions out; time comes in as an argument.
struct ChildSync<Instant: InstantProtocol> where Instant.Duration == Duration {
    /// Statuses due within this window go out together in `sub_device_update_status` messages.
    static var statusCoalescingWindow: Duration { .seconds(1) }
    /// After a refused add (the platform's error_code), try again this much later.
    static var addRetryAfterFailure: Duration { .seconds(600) }

    enum Action: Equatable {
        case publish(OutboxKind, IoTDAEvent, nodeId: String?, eventId: String?)
        case saveDeviceId(nodeId: String, deviceId: String?)
        case saveVersion(Int64)
        case saveStatus(nodeId: String, status: ChildStatus)
        /// The platform deleted the child: whatever is waiting to be sent about it is dropped.
        case forget(nodeId: String)
        case log(LogLevel, String)
    }

    enum LogLevel: Equatable { case info, warning, error }

    /// What to do with a field report of a child.
    enum ReportRoute: Equatable {
        /// Its ONLINE has been queued under this id: send the report.
        case send(deviceId: String)
        /// Its ONLINE has not been queued yet (state not known, offline, not added, or still in
        /// the coalescing window): keep the report until it has.
        case hold
        /// Deleted on the platform and not added again: drop the report.
        case deleted
        /// Not a configured child.
        case unknown
    }

    struct Child: Equatable {
        var nodeId: String
        var productId: String
        var name: String?
        var deviceId: String?
        /// What the field has said since start; nil until it has said anything.
        var status: ChildStatus?
        /// The status last queued for the cloud under `deviceId`, by this process.
        var published: SubDeviceStatus?
        /// Deleted on the platform while configured here: nothing is sent for it, and it is not
        /// added again, until the platform adds it or the gateway restarts.
        var deletedInCloud = false
        var retryAddAt: Instant?
    }

    struct PendingAdd: Equatable {
        var nodeIds: [String]
        var sentAt: Instant
    }

    private(set) var children: [String: Child] = [:]
    private(set) var pendingAdds: [String: PendingAdd] = [:]
    /// Children whose status is due at `flushDueAt`, in the order they became due.
    private(set) var dirtyStatuses: [String] = []
    /// For each due child: true when it must be sent even if the platform already has it (a
    /// connect's resync); false when only a change is worth sending.
    private var forcedStatuses: [String: Bool] = [:]
    private(set) var flushDueAt: Instant?
    private(set) var connected = false
    private(set) var version: Int64?
    private let gatewayDeviceId: String
    private var makeEventId: () -> String

    /// `children` come from the state store: their stored status is not used (see the type's note).
    init(gatewayDeviceId: String, version: Int64?, children: [ChildDevice], makeEventId: @escaping () -> String) {
        self.gatewayDeviceId = gatewayDeviceId
        self.version = version
        self.makeEventId = makeEventId
        for c in children {
            self.children[c.nodeId] = Child(nodeId: c.nodeId, productId: c.productId, name: c.name,
                                            deviceId: c.deviceId, status: nil)
        }
    }

    /// The cloud id of a child the platform knows; nil when it has none yet or was deleted.
    func deviceId(of nodeId: String) -> String? {
        guard let child = children[nodeId], !child.deletedInCloud else { return nil }
        return child.deviceId
    }

    /// The child a downlink request names: by its stored id, else by the id the platform assigns
    /// on add (a request may come before the add response). Deleted children are not found.
    func nodeId(ofDeviceId deviceId: String) -> String? {
        let live = children.values.filter { !$0.deletedInCloud }
        return live.first { $0.deviceId == deviceId }?.nodeId
            ?? live.first { $0.deviceId == nil && NewSubDevice(nodeId: $0.nodeId, productId: $0.productId).platformAssignedDeviceId == deviceId }?.nodeId
    }

    func reportRoute(of nodeId: String) -> ReportRoute {
        guard let child = children[nodeId] else { return .unknown }
        if child.deletedInCloud { return .deleted }
        if let deviceId = child.deviceId, child.published == .online { return .send(deviceId: deviceId) }
        return .hold
    }

    // MARK: - Connection

    /// After every (re)connect: ask for what changed while away, add what the cloud lacks, and
    /// re-send every known status, since the platform cannot know what happened while the link
    /// was down. The resync waits for the coalescing window like any other status, so slaves
    /// that answer just after the connect share its messages.
    mutating func connected(now: Instant) -> [Action] {
        connected = true
        var actions: [Action] = [.publish(.childManagement, .subDeviceSyncRequest(SubDeviceSyncRequest(version: version)),
                                          nodeId: nil, eventId: nil)]
        pendingAdds.removeAll()
        actions += addMissing(now: now)
        for nodeId in children.keys.sorted() { markDue(nodeId, force: true, now: now) }
        return actions
    }

    /// Statuses go on being coalesced and queued while the link is down: the outbox delivers
    /// them in order after the reconnect, ahead of the data queued after them.
    mutating func disconnected() {
        connected = false
    }

    // MARK: - Field events

    /// A child's status changed on the field side.
    mutating func statusChanged(nodeId: String, status: ChildStatus, now: Instant) -> [Action] {
        guard var child = children[nodeId], child.status != status else { return [] }
        child.status = status
        children[nodeId] = child
        var actions: [Action] = [.saveStatus(nodeId: nodeId, status: status)]
        markDue(nodeId, force: false, now: now)
        actions += tick(now: now)
        return actions
    }

    /// Timers: flush coalesced statuses, retry adds that got no answer in 30 s.
    mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        if let due = flushDueAt, due <= now { actions += flushStatuses() }
        let expired = pendingAdds.filter { now >= $0.value.sentAt.advanced(by: SubDeviceRequestLimits.responseWindow) }
        for (eventId, pending) in expired.sorted(by: { $0.key < $1.key }) {
            pendingAdds[eventId] = nil
            actions.append(.log(.warning, "no add_sub_device_response within 30 s for event \(eventId) (\(pending.nodeIds.count) children); retrying"))
        }
        if connected { actions += addMissing(now: now) }
        return actions
    }

    /// The next time `tick` has work, if any.
    var nextDeadline: Instant? {
        let adds = pendingAdds.values.map { $0.sentAt.advanced(by: SubDeviceRequestLimits.responseWindow) }
        let retries = children.values.compactMap(\.retryAddAt)
        return ([flushDueAt].compactMap { $0 } + adds + retries).min()
    }

    // MARK: - Cloud events

    mutating func received(_ event: EventService, now: Instant) -> [Action] {
        switch event.event {
        case .addSubDeviceNotify(let notify):
            var actions: [Action] = []
            for info in notify.devices {
                guard let nodeId = info.nodeId, let deviceId = info.deviceId else { continue }
                guard children[nodeId] != nil else {
                    actions.append(.log(.warning, "the platform added child \(nodeId) (\(deviceId)), which no device file or NB-IoT list here declares"))
                    continue
                }
                if children[nodeId]?.deletedInCloud == true {
                    actions.append(.log(.info, "the platform added child \(nodeId) again as \(deviceId)"))
                }
                actions += learned(nodeId: nodeId, deviceId: deviceId, now: now)
            }
            return actions + saveVersion(notify.version)
        case .deleteSubDeviceNotify(let notify):
            var actions: [Action] = []
            for info in notify.devices {
                guard let deviceId = info.deviceId,
                      let nodeId = info.nodeId ?? children.values.first(where: { $0.deviceId == deviceId })?.nodeId,
                      var child = children[nodeId] else { continue }
                if let current = child.deviceId, current != deviceId {
                    // An older incarnation (a sync replays deletes after the re-add): not this one.
                    actions.append(.log(.info, "the platform deleted \(deviceId), an earlier id of child \(nodeId) (now \(current)); nothing to do"))
                    continue
                }
                child.deviceId = nil
                child.deletedInCloud = true
                child.published = nil
                child.retryAddAt = nil
                children[nodeId] = child
                undue(nodeId)
                actions.append(.saveDeviceId(nodeId: nodeId, deviceId: nil))
                actions.append(.forget(nodeId: nodeId))
                actions.append(.log(.warning, "the platform deleted child \(nodeId) (\(deviceId)); nothing is sent for it until the platform adds it again (this gateway adds it again at the next restart)"))
            }
            return actions + saveVersion(notify.version)
        case .addSubDeviceResponse(let response):
            guard let eventId = event.eventId, let pending = pendingAdds.removeValue(forKey: eventId) else {
                return [.log(.warning, "add_sub_device_response for an unknown event_id \(event.eventId ?? "(none)")")]
            }
            var actions: [Action] = []
            var answered = Set<String>()
            for info in response.successfulDevices {
                guard let nodeId = info.nodeId, let deviceId = info.deviceId, children[nodeId] != nil else { continue }
                answered.insert(nodeId)
                actions += learned(nodeId: nodeId, deviceId: deviceId, now: now)
                actions.append(.log(.info, "child \(nodeId) added as \(deviceId)"))
            }
            for failure in response.failedDevices {
                answered.insert(failure.nodeId)
                children[failure.nodeId]?.retryAddAt = now.advanced(by: Self.addRetryAfterFailure)
                actions.append(.log(.error, "the platform refused to add child \(failure.nodeId) (product \(failure.productId)): error_code \(failure.errorCode): \(failure.errorMsg); retrying in 10 min"))
            }
            for nodeId in pending.nodeIds where !answered.contains(nodeId) {
                actions.append(.log(.warning, "add_sub_device_response did not mention child \(nodeId); retrying"))
            }
            return actions
        case .deleteSubDeviceResponse(let response):
            return response.failedDevices.map {
                .log(.error, "the platform refused to delete child \($0.deviceId): error_code \($0.errorCode): \($0.errorMsg)")
            }
        case .subDeviceUpdateStatusResponse(let response):
            return response.failedDevices.map {
                .log(.warning, "status of child \($0.deviceId) refused: error_code \($0.errorCode): \($0.errorMsg)")
            }
        default:
            return []
        }
    }

    // MARK: - Helpers

    /// The platform has the child under `deviceId` (add response or add notify). Its status is
    /// due unless the platform already has it under this id.
    private mutating func learned(nodeId: String, deviceId: String, now: Instant) -> [Action] {
        guard var child = children[nodeId] else { return [] }
        if child.deviceId != deviceId || child.deletedInCloud { child.published = nil }
        child.deviceId = deviceId
        child.deletedInCloud = false
        child.retryAddAt = nil
        children[nodeId] = child
        if child.published == nil { markDue(nodeId, force: true, now: now) }
        return [.saveDeviceId(nodeId: nodeId, deviceId: deviceId)]
    }

    /// Puts a child's status into the coalescing window, which opens now if none is open.
    /// Children the platform does not have, or whose state the field has not said, are skipped.
    private mutating func markDue(_ nodeId: String, force: Bool, now: Instant) {
        guard let child = children[nodeId], child.deviceId != nil, !child.deletedInCloud, child.status != nil else { return }
        if let wasForced = forcedStatuses[nodeId] {
            forcedStatuses[nodeId] = wasForced || force
        } else {
            forcedStatuses[nodeId] = force
            dirtyStatuses.append(nodeId)
        }
        if flushDueAt == nil { flushDueAt = now.advanced(by: Self.statusCoalescingWindow) }
    }

    private mutating func undue(_ nodeId: String) {
        guard forcedStatuses.removeValue(forKey: nodeId) != nil else { return }
        dirtyStatuses.removeAll { $0 == nodeId }
    }

    /// `sub_device_update_status` messages (≤100 entries each) for every due child.
    private mutating func flushStatuses() -> [Action] {
        var statuses: [DeviceStatus] = []
        for nodeId in dirtyStatuses {
            guard let force = forcedStatuses[nodeId], var child = children[nodeId], let deviceId = child.deviceId,
                  !child.deletedInCloud, let status = child.status else { continue }
            let wire = SubDeviceStatus(status)
            // OFFLINE → ABNORMAL is a change here and none to the platform.
            if !force && child.published == wire { continue }
            child.published = wire
            children[nodeId] = child
            statuses.append(DeviceStatus(deviceId: deviceId, status: wire))
        }
        dirtyStatuses.removeAll()
        forcedStatuses.removeAll()
        flushDueAt = nil
        return SubDeviceStatusUpdate.split(statuses).map { .publish(.statusUpdate, .subDeviceUpdateStatus($0), nodeId: nil, eventId: nil) }
    }

    private mutating func saveVersion(_ new: Int64) -> [Action] {
        version = new
        return [.saveVersion(new)]
    }

    /// Add requests (≤50 children each) for configured children without a cloud id.
    private mutating func addMissing(now: Instant) -> [Action] {
        let inFlight = Set(pendingAdds.values.flatMap(\.nodeIds))
        let missing = children.values
            .filter { $0.deviceId == nil && !$0.deletedInCloud && !inFlight.contains($0.nodeId) && ($0.retryAddAt.map { now >= $0 } ?? true) }
            .sorted { $0.nodeId < $1.nodeId }
        guard !missing.isEmpty else { return [] }
        let requests = AddSubDeviceRequest.split(missing.map {
            NewSubDevice(parentDeviceId: gatewayDeviceId, nodeId: $0.nodeId, name: $0.name ?? $0.nodeId, productId: $0.productId)
        })
        var actions: [Action] = []
        for request in requests {
            let eventId = makeEventId()
            pendingAdds[eventId] = PendingAdd(nodeIds: request.devices.map(\.nodeId), sentAt: now)
            actions.append(.publish(.childManagement, .addSubDeviceRequest(request), nodeId: nil, eventId: eventId))
        }
        return actions
    }
}
