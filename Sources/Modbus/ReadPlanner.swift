/// One read request: a contiguous range of one table, and the points it serves.
public struct ModbusReadRequest: Sendable, Equatable {
    public var table: ModbusTable
    public var address: Int
    public var count: Int
    /// Indices into the device's `points`.
    public var points: [Int]

    public init(table: ModbusTable, address: Int, count: Int, points: [Int]) {
        self.table = table
        self.address = address
        self.count = count
        self.points = points
    }

    public var span: ClosedRange<Int> { address...(address + count - 1) }
}

/// Merges the points of one device into the fewest reads.
///
/// Within one table, points never overlap (the config parser refuses it; bits of one register
/// share it), so a read always covers a run of consecutive points. A run is readable when it
/// spans at most `maxCount` addresses and no gap between neighbours exceeds `maxGap`; any part
/// of a readable run is readable, so taking the longest readable run from the left at each step
/// gives the fewest reads (the usual exchange argument; the tests check it against an exhaustive
/// search).
public enum ReadPlanner {
    /// Reads for the given points of one table. `maxCount` is clamped to the protocol limit.
    public static func plan(table: ModbusTable, points: [(index: Int, span: ClosedRange<Int>)],
                            maxCount: Int, maxGap: Int) -> [ModbusReadRequest] {
        let limit = min(max(1, maxCount), table.maxReadCount)
        let sorted = points.sorted { ($0.span.lowerBound, $0.index) < ($1.span.lowerBound, $1.index) }
        var requests: [ModbusReadRequest] = []
        var current: ModbusReadRequest?
        for point in sorted {
            if var open = current {
                let end = open.span.upperBound
                let gap = point.span.lowerBound - end - 1
                let newEnd = max(end, point.span.upperBound)
                if gap <= maxGap, newEnd - open.address + 1 <= limit {
                    open.count = newEnd - open.address + 1
                    open.points.append(point.index)
                    current = open
                    continue
                }
                requests.append(open)
            }
            current = ModbusReadRequest(table: table, address: point.span.lowerBound,
                                        count: point.span.count, points: [point.index])
        }
        if let open = current { requests.append(open) }
        return requests
    }

    /// Reads for every poll group of a device: `result[g]` are the reads of group `g`, registers
    /// before bits so the values that change most arrive first.
    public static func plan(device: ModbusDeviceConfig) -> [[ModbusReadRequest]] {
        let order: [ModbusTable] = [.holding, .input, .coil, .discrete]
        return device.pollGroups.indices.map { group in
            order.flatMap { table in
                let points = device.points.enumerated()
                    .filter { $0.element.report && $0.element.group == group && $0.element.table == table }
                    .map { (index: $0.offset, span: $0.element.span) }
                return plan(table: table, points: points,
                            maxCount: table.holdsBits ? device.maxReadBits : device.maxReadRegisters,
                            maxGap: table.holdsBits ? device.maxGapBits : device.maxGapRegisters)
            }
        }
    }
}
