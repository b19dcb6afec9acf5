import Foundation
import GatewayCore

/// What the bus threads hand to the reporter, until it passes them to the sink. Pure; the
/// service keeps it behind a lock and rings the reporter when it stops being empty.
///
/// Policy, for a sink slower than the buses:
/// - A status change (online/offline) is never dropped: the cloud derives a child's status from
///   them. Each needs a health transition (at least one poll cycle of that device), so they
///   come at most one per cycle and device.
/// - Values are coalesced per device: a new reading of a point replaces the one still waiting
///   (a late reading is worth less than the newest), so what waits is bounded by one value per
///   configured point (per status change waiting). A replaced reading is counted as dropped.
/// - Order is kept: a device's values never overtake its status change, nor the reverse (values
///   read after a status change wait in a new entry behind it).
/// - Dropped readings are said in a warning at most once per `warningWindow`, with the count
///   since the last warning.
struct UplinkQueue<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// One thing to hand to the sink.
    enum Entry: Sendable {
        case status(nodeId: String, status: ChildStatus, time: Date)
        /// Changed values of one device, by point index in ascending order; `time` is when the
        /// newest of them was read.
        case values(nodeId: String, values: [(point: Int, value: JSONValue)], time: Date)
    }

    /// A warning to log: readings dropped since the last warning, and since start.
    struct Warning: Sendable, Equatable {
        var dropped: Int
        var total: Int
    }

    private struct Slot: Sendable {
        var values: [JSONValue?] = []
        var changed: [Int] = []
        var time = Date.distantPast
    }

    private enum Pending: Sendable {
        case status(nodeId: String, status: ChildStatus, time: Date)
        case values(nodeId: String, Slot)
    }

    private var pending: [Pending] = []
    /// nodeId → index in `pending` of the device's values entry that new values merge into
    /// (none once a status change of the device is queued after it).
    private var open: [String: Int] = [:]
    /// Readings replaced by newer ones before the reporter took them, since start.
    private(set) var droppedValues = 0
    private var droppedSinceWarning = 0
    private var warnings: LogRateLimit<Instant>

    init(warningWindow: Duration = .seconds(60)) {
        warnings = LogRateLimit(perWindow: 1, window: warningWindow)
    }

    var isEmpty: Bool { pending.isEmpty }

    /// Queues a status change. Returns true when the queue was empty (the reporter needs waking).
    mutating func add(status: ChildStatus, nodeId: String, time: Date) -> Bool {
        let wasEmpty = pending.isEmpty
        pending.append(.status(nodeId: nodeId, status: status, time: time))
        open[nodeId] = nil
        return wasEmpty
    }

    /// Queues one cycle's changed values of a device, merged into what of the device is still
    /// waiting. Returns true when the queue was empty (the reporter needs waking).
    mutating func add(values: [(point: Int, value: JSONValue)], nodeId: String, time: Date) -> Bool {
        let wasEmpty = pending.isEmpty
        var slot = Slot()
        let index: Int
        if let existing = open[nodeId], case .values(_, let waiting) = pending[existing] {
            slot = waiting
            index = existing
        } else {
            index = pending.count
            pending.append(.values(nodeId: nodeId, slot))
            open[nodeId] = index
        }
        // Free the entry's storage while it is merged into, so the slot is not copied.
        pending[index] = .values(nodeId: nodeId, Slot())
        for (point, value) in values where point >= 0 {
            if point >= slot.values.count { slot.values += [JSONValue?](repeating: nil, count: point - slot.values.count + 1) }
            if slot.values[point] == nil {
                slot.changed.append(point)
            } else {
                droppedValues += 1
                droppedSinceWarning += 1
            }
            slot.values[point] = value
        }
        slot.time = time
        pending[index] = .values(nodeId: nodeId, slot)
        return wasEmpty
    }

    /// Everything waiting, oldest first; the queue is empty afterwards.
    mutating func takeAll() -> [Entry] {
        let taken = pending
        pending.removeAll()
        open.removeAll()
        return taken.map { entry in
            switch entry {
            case .status(let nodeId, let status, let time):
                return .status(nodeId: nodeId, status: status, time: time)
            case .values(let nodeId, let slot):
                let values = slot.changed.sorted().compactMap { point in slot.values[point].map { (point, $0) } }
                return .values(nodeId: nodeId, values: values, time: slot.time)
            }
        }
    }

    /// The warning to log at `now` about dropped readings, if any were dropped since the last
    /// one and the last one is at least `warningWindow` old.
    mutating func warning(at now: Instant) -> Warning? {
        guard droppedSinceWarning > 0, warnings.admit(at: now) != nil else { return nil }
        defer { droppedSinceWarning = 0 }
        return Warning(dropped: droppedSinceWarning, total: droppedValues)
    }
}
