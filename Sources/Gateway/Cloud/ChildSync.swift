import Foundation
import GatewayCore
import IoTDA
import Store

/// The gateway's side of the platform's child-device contract (spec mqtt-gateway §2.10, §4):
/// add children the cloud does not know yet, follow add/delete notifications, sync the list
/// after every connect, and report statuses, coalesced, re-sending them all after a reconnect.
///
/// Pure: events in, actions out; time comes in as an argument.
struct ChildSync<Instant: InstantProtocol> where Instant.Duration == Duration {
    /// Status changes within this window go out in one `sub_device_update_status`.
    static var statusCoalescingWindow: Duration { .seconds(1) }
    /// After a refused add (the platform's error_code), try again this much later.
    static var addRetryAfterFailure: Duration { .seconds(600) }

    enum Action: Equatable {
        case publish(OutboxKind, IoTDAEvent, nodeId: String?, eventId: String?)
        case saveDeviceId(nodeId: String, deviceId: String?)
        case saveVersion(Int64)
        case saveStatus(nodeId: String, status: ChildStatus)
        case log(LogLevel, String)
    }

    enum LogLevel: Equatable { case info, warning, error }

    struct Child: Equatable {
        var nodeId: String
        var productId: String
        var name: String?
        var deviceId: String?
        var status: ChildStatus
        /// Deleted on the platform while configured here: not added again until the next restart.
        var deletedInCloud = false
        var retryAddAt: Instant?
    }

    struct PendingAdd: Equatable {
        var nodeIds: [String]
        var sentAt: Instant
    }

    private(set) var children: [String: Child] = [:]
    private(set) var pendingAdds: [String: PendingAdd] = [:]
    private(set) var dirtyStatuses: [String] = []
    private(set) var flushDueAt: Instant?
    private(set) var connected = false
    private(set) var version: Int64?
    private let gatewayDeviceId: String
    private var makeEventId: () -> String

    init(gatewayDeviceId: String, version: Int64?, children: [ChildDevice], makeEventId: @escaping () -> String) {
        self.gatewayDeviceId = gatewayDeviceId
        self.version = version
        self.makeEventId = makeEventId
        for c in children {
            self.children[c.nodeId] = Child(nodeId: c.nodeId, productId: c.productId, name: c.name,
                                            deviceId: c.deviceId, status: c.status)
        }
    }

    /// The cloud id of a child: the stored one, else the one the platform assigns on add.
    func deviceId(of nodeId: String) -> String? {
        guard let child = children[nodeId] else { return nil }
        return child.deviceId ?? NewSubDevice(nodeId: nodeId, productId: child.productId).platformAssignedDeviceId
    }

    func nodeId(ofDeviceId deviceId: String) -> String? {
        children.values.first { $0.deviceId == deviceId }?.nodeId
            ?? children.values.first { NewSubDevice(nodeId: $0.nodeId, productId: $0.productId).platformAssignedDeviceId == deviceId }?.nodeId
    }

    // MARK: - Connection

    /// After every (re)connect: ask for what changed while away, add what the cloud lacks, and
    /// re-send every status, since the platform cannot know what happened while the link was down.
    mutating func connected(now: Instant) -> [Action] {
        connected = true
        var actions: [Action] = [.publish(.childManagement, .subDeviceSyncRequest(SubDeviceSyncRequest(version: version)),
                                          nodeId: nil, eventId: nil)]
        pendingAdds.removeAll()
        actions += addMissing(now: now)
        actions += statusUpdates(for: children.values.filter { $0.deviceId != nil }.map(\.nodeId).sorted())
        dirtyStatuses.removeAll()
        flushDueAt = nil
        return actions
    }

    /// Coalesced statuses not yet sent are dropped: the next connect re-sends every status.
    mutating func disconnected() {
        connected = false
        dirtyStatuses.removeAll()
        flushDueAt = nil
    }

    // MARK: - Field events

    /// A child's status changed on the field side.
    mutating func statusChanged(nodeId: String, status: ChildStatus, now: Instant) -> [Action] {
        guard var child = children[nodeId], child.status != status else { return [] }
        child.status = status
        children[nodeId] = child
        var actions: [Action] = [.saveStatus(nodeId: nodeId, status: status)]
        if connected, child.deviceId != nil {
            if !dirtyStatuses.contains(nodeId) { dirtyStatuses.append(nodeId) }
            if flushDueAt == nil { flushDueAt = now.advanced(by: Self.statusCoalescingWindow) }
        }
        actions += tick(now: now)
        return actions
    }

    /// Timers: flush coalesced statuses, retry adds that got no answer in 30 s.
    mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        if let due = flushDueAt, due <= now {
            actions += statusUpdates(for: dirtyStatuses)
            dirtyStatuses.removeAll()
            flushDueAt = nil
        }
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
        return ([flushDueAt].compactMap { $0} + adds + retries).min()
    }

    // MARK: - Cloud events

    mutating func received(_ event: EventService, now: Instant) -> [Action] {
        switch event.event {
        case .addSubDeviceNotify(let notify):
            var actions: [Action] = []
            for info in notify.devices {
                guard let nodeId = info.nodeId, let deviceId = info.deviceId else { continue }
                if var child = children[nodeId] {
                    child.deviceId = deviceId
                    child.deletedInCloud = false
                    children[nodeId] = child
                    actions.append(.saveDeviceId(nodeId: nodeId, deviceId: deviceId))
                    actions += statusUpdates(for: [nodeId])
                } else {
                    actions.append(.log(.warning, "the platform added child \(nodeId) (\(deviceId)), which no device file or NB-IoT list here declares"))
                }
            }
            return actions + saveVersion(notify.version)
        case .deleteSubDeviceNotify(let notify):
            var actions: [Action] = []
            for info in notify.devices {
                guard let deviceId = info.deviceId,
                      let nodeId = info.nodeId ?? children.values.first(where: { $0.deviceId == deviceId })?.nodeId,
                      var child = children[nodeId] else { continue }
                child.deviceId = nil
                child.deletedInCloud = true
                children[nodeId] = child
                actions.append(.saveDeviceId(nodeId: nodeId, deviceId: nil))
                actions.append(.log(.warning, "the platform deleted child \(nodeId) (\(deviceId)); it is added again at the next restart"))
            }
            return actions + saveVersion(notify.version)
        case .addSubDeviceResponse(let response):
            guard let eventId = event.eventId, let pending = pendingAdds.removeValue(forKey: eventId) else {
                return [.log(.warning, "add_sub_device_response for an unknown event_id \(event.eventId ?? "(none)")")]
            }
            var actions: [Action] = []
            var answered = Set<String>()
            for info in response.successfulDevices {
                guard let nodeId = info.nodeId, let deviceId = info.deviceId, var child = children[nodeId] else { continue }
                answered.insert(nodeId)
                child.deviceId = deviceId
                child.retryAddAt = nil
                children[nodeId] = child
                actions.append(.saveDeviceId(nodeId: nodeId, deviceId: deviceId))
                actions.append(.log(.info, "child \(nodeId) added as \(deviceId)"))
            }
            actions += statusUpdates(for: response.successfulDevices.compactMap(\.nodeId).filter { children[$0]?.deviceId != nil })
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

    /// `sub_device_update_status` messages (≤100 entries each) for these children.
    private func statusUpdates(for nodeIds: [String]) -> [Action] {
        let statuses = nodeIds.compactMap { nodeId -> DeviceStatus? in
            guard let child = children[nodeId], let deviceId = child.deviceId else { return nil }
            return DeviceStatus(deviceId: deviceId, status: SubDeviceStatus(child.status))
        }
        return SubDeviceStatusUpdate.split(statuses).map { .publish(.statusUpdate, .subDeviceUpdateStatus($0), nodeId: nil, eventId: nil) }
    }
}
