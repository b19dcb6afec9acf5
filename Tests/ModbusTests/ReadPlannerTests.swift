import Testing
import TestSupport
@testable import Modbus

@Suite struct ReadPlannerTests {
    typealias Item = (index: Int, span: ClosedRange<Int>)

    func items(_ spans: [ClosedRange<Int>]) -> [Item] { spans.enumerated().map { ($0.offset, $0.element) } }

    @Test func limitsAreTheProtocolOnes() {
        #expect(ModbusLimits.maxReadRegisters == 125)
        #expect(ModbusLimits.maxReadBits == 2000)
        #expect(ModbusLimits.maxWriteRegisters == 123)
        #expect(ModbusLimits.maxWriteBits == 1968)
        #expect(ModbusTable.holding.maxReadCount == 125)
        #expect(ModbusTable.coil.maxReadCount == 2000)
    }

    @Test func adjacentPointsBecomeOneRead() {
        let plan = ReadPlanner.plan(table: .holding, points: items([0...1, 2...2, 3...6]), maxCount: 125, maxGap: 0)
        #expect(plan == [ModbusReadRequest(table: .holding, address: 0, count: 7, points: [0, 1, 2])])
    }

    @Test func gapsAreBridgedOnlyUpToTheLimit() {
        let spans = [0...0, 5...5, 16...16]   // gaps of 4 and 10
        #expect(ReadPlanner.plan(table: .input, points: items(spans), maxCount: 125, maxGap: 4).map(\.span) == [0...5, 16...16])
        #expect(ReadPlanner.plan(table: .input, points: items(spans), maxCount: 125, maxGap: 10).map(\.span) == [0...16])
        #expect(ReadPlanner.plan(table: .input, points: items(spans), maxCount: 125, maxGap: 3).map(\.span) == [0...0, 5...5, 16...16])
    }

    @Test func neverMoreThan125Registers() {
        let spans = (0..<300).map { $0...$0 }
        let plan = ReadPlanner.plan(table: .holding, points: items(spans), maxCount: 500, maxGap: 0)
        #expect(plan.map(\.count) == [125, 125, 50])
        #expect(plan.flatMap(\.points).sorted() == Array(0..<300))
    }

    @Test func neverMoreThan2000Bits() {
        let spans = (0..<4100).map { $0...$0 }
        let plan = ReadPlanner.plan(table: .coil, points: items(spans), maxCount: 100_000, maxGap: 0)
        #expect(plan.map(\.count) == [2000, 2000, 100])
    }

    @Test func aPointIsNeverSplitAcrossReads() {
        // 124 single registers, then a float64 at 124…127: it cannot join the first read.
        let spans = (0..<124).map { $0...$0 } + [124...127]
        let plan = ReadPlanner.plan(table: .holding, points: items(spans), maxCount: 125, maxGap: 0)
        #expect(plan.map(\.span) == [0...123, 124...127])
    }

    @Test func bitsOfOneRegisterShareTheRead() {
        let plan = ReadPlanner.plan(table: .holding, points: items([7...7, 7...7, 7...7, 8...9]), maxCount: 125, maxGap: 0)
        #expect(plan == [ModbusReadRequest(table: .holding, address: 7, count: 3, points: [0, 1, 2, 3])])
    }

    @Test func aDeviceLimitBelow125IsKept() {
        let spans = (0..<40).map { $0...$0 }
        #expect(ReadPlanner.plan(table: .holding, points: items(spans), maxCount: 16, maxGap: 0).map(\.count) == [16, 16, 8])
    }

    @Test func groupsAndTablesAreReadSeparately() {
        let device = ModbusDeviceConfig(
            nodeId: "n", productId: "p", transport: .tcp(host: "127.0.0.1", port: 502), unitId: 1,
            pollGroups: [ModbusPollGroup(name: "fast", interval: .seconds(1)), ModbusPollGroup(name: "slow", interval: .seconds(10))],
            points: [
                ModbusPoint(name: "a", serviceId: "s", property: "a", table: .holding, address: 0, type: .uint16, group: 0),
                ModbusPoint(name: "b", serviceId: "s", property: "b", table: .holding, address: 1, type: .uint16, group: 1),
                ModbusPoint(name: "c", serviceId: "s", property: "c", table: .input, address: 2, type: .uint16, group: 0),
                ModbusPoint(name: "d", serviceId: "s", property: "d", table: .coil, address: 0, type: .bool, group: 0),
                ModbusPoint(name: "e", serviceId: "s", property: "e", table: .coil, address: 3, type: .bool, group: 0),
            ])
        let plans = ReadPlanner.plan(device: device)
        #expect(plans.count == 2)
        #expect(plans[0] == [
            ModbusReadRequest(table: .holding, address: 0, count: 1, points: [0]),
            ModbusReadRequest(table: .input, address: 2, count: 1, points: [2]),
            ModbusReadRequest(table: .coil, address: 0, count: 4, points: [3, 4]),
        ])
        #expect(plans[1] == [ModbusReadRequest(table: .holding, address: 1, count: 1, points: [1])])
    }

    /// Tricky maps where a planner that merges only neighbours, or that bridges every gap, loses.
    @Test func trickyMapsAreOptimal() {
        let maps: [(spans: [ClosedRange<Int>], maxCount: Int, maxGap: Int, reads: Int)] = [
            // Exactly 125 with a gap in the middle that is allowed.
            ([0...59, 65...124], 125, 5, 1),
            // One register over 125 because of a gap.
            ([0...59, 66...125], 125, 6, 2),
            // A long string at the end fits only in a read of its own.
            ([0...0, 2...2, 4...123, 125...249], 125, 1, 2),
            // Many tiny gaps just at the limit chain into one read.
            ((0..<25).map { ($0 * 5)...($0 * 5) }, 125, 4, 1),
            // Same, one over the limit: every point alone.
            ((0..<25).map { ($0 * 6)...($0 * 6) }, 125, 4, 25),
        ]
        for map in maps {
            let plan = ReadPlanner.plan(table: .holding, points: items(map.spans), maxCount: map.maxCount, maxGap: map.maxGap)
            #expect(plan.count == map.reads, "\(map.spans)")
            #expect(plan.count == Self.fewestReads(map.spans, maxCount: map.maxCount, maxGap: map.maxGap))
            Self.checkValid(plan, spans: map.spans, maxCount: map.maxCount, maxGap: map.maxGap)
        }
    }

    /// Random maps: the planner's read count equals an exhaustive search's, and every read is legal.
    @Test func randomMapsMatchExhaustiveSearch() {
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<400 {
            var spans: [ClosedRange<Int>] = []
            var address = Int(rng.next() % 4)
            for _ in 0..<(1 + Int(rng.next() % 40)) {
                let length = [1, 1, 1, 2, 2, 4, 8, 30, 60][Int(rng.next() % 9)]
                spans.append(address...(address + length - 1))
                address += length + [0, 0, 1, 3, 7, 20, 60][Int(rng.next() % 7)]
            }
            let maxCount = [8, 32, 64, 125][Int(rng.next() % 4)]
            let maxGap = [0, 1, 4, 16][Int(rng.next() % 4)]
            let fitting = spans.filter { $0.count <= maxCount }
            let plan = ReadPlanner.plan(table: .holding, points: items(fitting), maxCount: maxCount, maxGap: maxGap)
            #expect(plan.count == Self.fewestReads(fitting, maxCount: maxCount, maxGap: maxGap))
            Self.checkValid(plan, spans: fitting, maxCount: maxCount, maxGap: maxGap)
        }
    }

    /// Fewest reads by dynamic programming over every split of the sorted points.
    static func fewestReads(_ spans: [ClosedRange<Int>], maxCount: Int, maxGap: Int) -> Int {
        let sorted = spans.sorted { $0.lowerBound < $1.lowerBound }
        guard !sorted.isEmpty else { return 0 }
        var best = [Int](repeating: Int.max, count: sorted.count + 1)
        best[0] = 0
        for end in 1...sorted.count {
            for start in 0..<end where best[start] != Int.max {
                let run = sorted[start..<end]
                let low = run.first!.lowerBound, high = run.map(\.upperBound).max()!
                guard high - low + 1 <= maxCount else { continue }
                let gapsFit = zip(run.dropLast(), run.dropFirst()).allSatisfy { $1.lowerBound - $0.upperBound - 1 <= maxGap }
                if gapsFit { best[end] = min(best[end], best[start] + 1) }
            }
        }
        return best[sorted.count]
    }

    static func checkValid(_ plan: [ModbusReadRequest], spans: [ClosedRange<Int>], maxCount: Int, maxGap: Int) {
        #expect(plan.flatMap(\.points).sorted() == Array(spans.indices))
        for request in plan {
            #expect(request.count <= maxCount)
            #expect(request.count <= 125)
            let covered = request.points.map { spans[$0] }.sorted { $0.lowerBound < $1.lowerBound }
            for span in covered { #expect(request.span.contains(span.lowerBound) && request.span.contains(span.upperBound)) }
            for (a, b) in zip(covered.dropLast(), covered.dropFirst()) { #expect(b.lowerBound - a.upperBound - 1 <= maxGap) }
        }
    }
}
