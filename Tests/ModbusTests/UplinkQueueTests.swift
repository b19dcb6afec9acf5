import Foundation
import GatewayCore
import Testing
@testable import Modbus

/// What waits between the buses and a slow sink: status changes all kept, values coalesced.
@Suite struct UplinkQueueTests {
    typealias Queue = UplinkQueue<OffsetInstant>

    static func at(_ milliseconds: Int64) -> OffsetInstant { OffsetInstant(offset: .milliseconds(milliseconds)) }
    static func time(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_767_225_600 + seconds) }

    /// "A online @1", "A 0=3 1=2 @2".
    static func describe(_ entries: [Queue.Entry]) -> [String] {
        entries.map { entry in
            switch entry {
            case .status(let nodeId, let status, let time):
                return "\(nodeId) \(status.rawValue) @\(Int(time.timeIntervalSince1970 - 1_767_225_600))"
            case .values(let nodeId, let values, let time):
                let text = values.map { value in
                    if case .int(let number) = value.value { return "\(value.point)=\(number)" }
                    return "\(value.point)=\(value.value)"
                }.joined(separator: " ")
                return "\(nodeId) \(text) @\(Int(time.timeIntervalSince1970 - 1_767_225_600))"
            }
        }
    }

    @Test func valuesOfADeviceAreCoalescedTheNewestReadingWinsAndTheReplacedOneIsCounted() {
        var queue = Queue()
        _ = queue.add(values: [(1, 2), (0, 1)], nodeId: "A", time: Self.time(1))
        _ = queue.add(values: [(0, 3), (4, 5)], nodeId: "A", time: Self.time(2))
        _ = queue.add(values: [(0, 7)], nodeId: "B", time: Self.time(2))
        #expect(queue.droppedValues == 1)
        #expect(Self.describe(queue.takeAll()) == ["A 0=3 1=2 4=5 @2", "B 0=7 @2"])
        #expect(queue.isEmpty)
        // Taken: nothing is replaced any more.
        _ = queue.add(values: [(0, 4)], nodeId: "A", time: Self.time(3))
        #expect(queue.droppedValues == 1)
        #expect(Self.describe(queue.takeAll()) == ["A 0=4 @3"])
    }

    @Test func statusChangesAreNeverDroppedNorCoalescedAndValuesDoNotOvertakeThem() {
        var queue = Queue()
        _ = queue.add(values: [(0, 1)], nodeId: "A", time: Self.time(1))
        _ = queue.add(status: .offline, nodeId: "A", time: Self.time(2))
        _ = queue.add(values: [(0, 5)], nodeId: "B", time: Self.time(2))
        _ = queue.add(status: .online, nodeId: "A", time: Self.time(3))
        // Read after A came back: behind its status change, not merged into the older values.
        _ = queue.add(values: [(0, 2)], nodeId: "A", time: Self.time(3))
        _ = queue.add(values: [(1, 3)], nodeId: "A", time: Self.time(4))
        // B had no status change: still merged into its entry.
        _ = queue.add(values: [(0, 6)], nodeId: "B", time: Self.time(4))
        #expect(Self.describe(queue.takeAll()) == ["A 0=1 @1", "A OFFLINE @2", "B 0=6 @4", "A ONLINE @3", "A 0=2 1=3 @4"])
        #expect(queue.droppedValues == 1)
    }

    @Test func aFlappingDeviceKeepsEveryStatusChangeWhileItsValuesStayBounded() {
        var queue = Queue()
        for cycle in 0..<10_000 {
            _ = queue.add(values: (0..<10).map { (point: $0, value: JSONValue.int(Int64(cycle))) }, nodeId: "steady",
                          time: Self.time(Double(cycle)))
            if cycle % 100 == 0 {
                _ = queue.add(status: cycle % 200 == 0 ? .offline : .online, nodeId: "flaky", time: Self.time(Double(cycle)))
            }
        }
        let entries = queue.takeAll()
        let statuses = entries.compactMap { entry -> ChildStatus? in
            if case .status(_, let status, _) = entry { return status }
            return nil
        }
        #expect(statuses.count == 100)
        #expect(statuses == (0..<100).map { $0 % 2 == 0 ? .offline : .online })
        // One entry of the steady device, its newest reading of each point.
        #expect(Self.describe(entries.filter { if case .values = $0 { true } else { false } })
                == ["steady 0=9999 1=9999 2=9999 3=9999 4=9999 5=9999 6=9999 7=9999 8=9999 9=9999 @9999"])
        #expect(queue.droppedValues == 10 * 9_999)
    }

    @Test func theReporterIsWokenOnlyWhenTheQueueStopsBeingEmpty() {
        var queue = Queue()
        var woken: [Bool] = []
        woken.append(queue.add(values: [(0, 1)], nodeId: "A", time: Self.time(1)))
        woken.append(queue.add(values: [(0, 2)], nodeId: "A", time: Self.time(2)))
        woken.append(queue.add(status: .offline, nodeId: "A", time: Self.time(3)))
        _ = queue.takeAll()
        woken.append(queue.add(status: .online, nodeId: "A", time: Self.time(4)))
        woken.append(queue.add(values: [(0, 3)], nodeId: "B", time: Self.time(5)))
        #expect(woken == [true, false, false, true, false])
    }

    @Test func droppedReadingsAreWarnedAboutAtMostOncePerWindowWithTheCount() {
        var queue = Queue(warningWindow: .seconds(60))
        var warnings: [Queue.Warning?] = []
        func drop(_ count: Int) {
            for value in 0...count { _ = queue.add(values: [(0, .int(Int64(value)))], nodeId: "A", time: Self.time(0)) }
        }
        warnings.append(queue.warning(at: Self.at(0)))        // nothing dropped: nil
        drop(1)
        warnings.append(queue.warning(at: Self.at(0)))        // said at once
        warnings.append(queue.warning(at: Self.at(1)))        // nothing new
        drop(3)                                                // merged into the same waiting value: 4 dropped
        warnings.append(queue.warning(at: Self.at(10_000)))   // within the window: held back
        warnings.append(queue.warning(at: Self.at(59_999)))
        warnings.append(queue.warning(at: Self.at(60_000)))   // the window is over: the count since the last line
        warnings.append(queue.warning(at: Self.at(200_000)))  // a quiet window: no line
        _ = queue.takeAll()
        drop(1)
        warnings.append(queue.warning(at: Self.at(200_001)))  // the next drop is said at once
        #expect(warnings == [nil, Queue.Warning(dropped: 1, total: 1), nil, nil, nil, Queue.Warning(dropped: 4, total: 5), nil,
                             Queue.Warning(dropped: 1, total: 6)])
    }
}
