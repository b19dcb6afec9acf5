import Foundation
import GatewayCore

/// NB-IoT presence as the platform sees it (spec lwm2m-coap §4.10): ONLINE on registration and on
/// data; OFFLINE on de-registration or lifetime expiry; for devices that keep no registration,
/// ABNORMAL after 25 h without data and OFFLINE after 49 h. Returns only real changes.
/// Generic over the clock's instant: the service passes its `GatewayClock`'s, tests their own.
public struct PresenceTracker<Instant: InstantProtocol & Sendable>: Sendable, Equatable where Instant.Duration == Duration {
    public static var abnormalAfter: Duration { .seconds(25 * 3600) }
    public static var offlineAfter: Duration { .seconds(49 * 3600) }

    public struct Change: Sendable, Equatable {
        public var nodeId: String
        public var status: ChildStatus
        public init(nodeId: String, status: ChildStatus) {
            self.nodeId = nodeId
            self.status = status
        }
    }

    private struct Entry: Sendable, Equatable {
        var status: ChildStatus
        var lastData: Instant
        var registered: Bool
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    public func status(of nodeId: String) -> ChildStatus? { entries[nodeId]?.status }

    public mutating func registered(_ nodeId: String, at now: Instant) -> [Change] {
        let old = entries[nodeId]?.status
        entries[nodeId] = Entry(status: .online, lastData: now, registered: true)
        return old == .online ? [] : [Change(nodeId: nodeId, status: .online)]
    }

    public mutating func data(_ nodeId: String, at now: Instant) -> [Change] {
        let old = entries[nodeId]
        entries[nodeId] = Entry(status: .online, lastData: now, registered: old?.registered ?? false)
        return old?.status == .online ? [] : [Change(nodeId: nodeId, status: .online)]
    }

    public mutating func registrationEnded(_ nodeId: String, at now: Instant) -> [Change] {
        guard var entry = entries[nodeId] else { return [] }
        entry.registered = false
        let changed = entry.status != .offline
        entry.status = .offline
        entries[nodeId] = entry
        return changed ? [Change(nodeId: nodeId, status: .offline)] : []
    }

    /// Ages devices that report without a registration.
    public mutating func tick(at now: Instant) -> [Change] {
        var changes: [Change] = []
        for (nodeId, entry) in entries.sorted(by: { $0.key < $1.key }) where !entry.registered {
            let silent = entry.lastData.duration(to: now)
            let target: ChildStatus? = silent >= Self.offlineAfter ? .offline : silent >= Self.abnormalAfter ? .abnormal : nil
            if let target, target != entry.status, !(entry.status == .offline && target == .abnormal) {
                entries[nodeId]?.status = target
                changes.append(Change(nodeId: nodeId, status: target))
            }
        }
        return changes
    }
}
