import GatewayCore

/// Which devices may download at once (issue 13 item 4; spec lwm2m-coap §2.10). Pure: the
/// upgrade service asks it when a device wants to start and tells it when a task ends.
///
/// Rules, in this order, for each waiting device, oldest request first:
/// 1. at most `globalCap` devices hold a slot over the whole site;
/// 2. at most `cellLimit(radio)` devices of the device's cell hold a slot, counting every device
///    of that cell, whatever its own coverage (a level-2 device starts only when its cell is idle;
///    a level-0 device starts while fewer than 50 of its cell run);
/// 3. a device whose cell is unknown (`cellLimit` says nil) belongs to one group, "unknown cell",
///    capped at `unknownCellCap` (the platform fails such tasks; edgegw caps them instead).
/// A device that cannot start waits without blocking devices of other cells behind it.
public struct UpgradeFanOut: Sendable {
    /// The group a device counts in: its cell, or the group of devices whose cell is unknown.
    public enum Group: Sendable, Hashable, CustomStringConvertible {
        case cell(String)
        case unknownCell

        public var description: String {
            switch self {
            case .cell(let id): return "cell \(id)"
            case .unknownCell: return "unknown cell"
            }
        }
    }

    public let globalCap: Int
    public let unknownCellCap: Int
    public let cellLimit: @Sendable (RadioConditions?) -> Int?

    /// Devices holding a slot, with the group they hold it in.
    public private(set) var running: [String: Group] = [:]
    /// Devices waiting for a slot, oldest first.
    public private(set) var waiting: [String] = []
    /// The last radio conditions each device reported.
    public private(set) var radio: [String: RadioConditions] = [:]
    private var perGroup: [Group: Int] = [:]

    public init(globalCap: Int, unknownCellCap: Int, cellLimit: @escaping @Sendable (RadioConditions?) -> Int?) {
        self.globalCap = max(1, globalCap)
        self.unknownCellCap = max(1, unknownCellCap)
        self.cellLimit = cellLimit
    }

    /// The group and cap of a device from its last radio conditions.
    public func placement(of nodeId: String) -> (group: Group, cap: Int) {
        let conditions = radio[nodeId]
        guard let cap = cellLimit(conditions), let cell = conditions?.cellId, !cell.isEmpty else {
            return (.unknownCell, unknownCellCap)
        }
        return (.cell(cell), max(1, cap))
    }

    public func runningCount(in group: Group) -> Int { perGroup[group] ?? 0 }

    public mutating func updateRadio(_ conditions: RadioConditions, for nodeId: String) {
        radio[nodeId] = conditions
    }

    /// The device wants to start. Returns the devices admitted now (it among them if it fits).
    public mutating func request(_ nodeId: String) -> [String] {
        if running[nodeId] == nil && !waiting.contains(nodeId) { waiting.append(nodeId) }
        return admit()
    }

    /// A slot taken without asking (a task restored in a downloading phase).
    public mutating func occupy(_ nodeId: String) {
        guard running[nodeId] == nil else { return }
        waiting.removeAll { $0 == nodeId }
        let group = placement(of: nodeId).group
        running[nodeId] = group
        perGroup[group, default: 0] += 1
    }

    /// The device's task ended (or no longer waits): its slot goes to the next devices that fit.
    public mutating func release(_ nodeId: String) -> [String] {
        waiting.removeAll { $0 == nodeId }
        if let group = running.removeValue(forKey: nodeId) {
            perGroup[group, default: 1] -= 1
            if perGroup[group] == 0 { perGroup[group] = nil }
        }
        return admit()
    }

    private mutating func admit() -> [String] {
        var admitted: [String] = []
        var index = 0
        while index < waiting.count, running.count < globalCap {
            let nodeId = waiting[index]
            let (group, cap) = placement(of: nodeId)
            if runningCount(in: group) < cap {
                waiting.remove(at: index)
                running[nodeId] = group
                perGroup[group, default: 0] += 1
                admitted.append(nodeId)
            } else {
                index += 1
            }
        }
        return admitted
    }
}
