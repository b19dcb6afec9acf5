import Foundation
import Testing
import TestSupport
@testable import Store

@Suite struct OutboxTests {
    func message(_ i: Int, kind: OutboxKind = .propertyReport, size: Int = 10) -> OutboxMessage {
        OutboxMessage(kind: kind, topic: "t/\(i)", payload: Array(repeating: UInt8(i % 256), count: size), nodeId: "n\(i % 3)")
    }

    @Test func readsInOrderAndDeletesOnAckAcrossReopen() throws {
        let tmp = TemporaryDirectory()
        do {
            let outbox = try Outbox(store: StateStore(directory: tmp.path))
            let result = try outbox.append((0..<10).map { message($0) })
            #expect(result.ids == result.ids.sorted())
            try outbox.delete(ids: Array(result.ids.prefix(4)))
            #expect(outbox.count == 6)
        }
        // Reopen: the six unacknowledged rows are still there, in append order.
        let outbox = try Outbox(store: StateStore(directory: tmp.path))
        #expect(outbox.count == 6)
        #expect(outbox.bytes == 60)
        let pending = try outbox.pending(limit: 100)
        #expect(pending.map(\.topic) == (4..<10).map { "t/\($0)" })
        // Paging after an id continues where the last page ended.
        let page = try outbox.pending(afterId: pending[2].id, limit: 2)
        #expect(page.map(\.topic) == ["t/7", "t/8"])
        // Deleting an id twice is harmless.
        try outbox.delete(ids: [pending[0].id, pending[0].id])
        #expect(outbox.count == 5)
    }

    @Test func fullOutboxDropsOldestPropertyReportsNeverResponses() throws {
        let tmp = TemporaryDirectory()
        let outbox = try Outbox(store: StateStore(directory: tmp.path), maxBytes: 100)
        try outbox.append([message(0, kind: .commandResponse)])
        try outbox.append((1...9).map { message($0) })              // 100 bytes: full
        let result = try outbox.append([message(10, kind: .statusUpdate)])
        #expect(result.droppedOldest == 1)
        let topics = try outbox.pending(limit: 100).map(\.topic)
        #expect(topics.first == "t/0")                               // the command response stays
        #expect(!topics.contains("t/1"))                             // the oldest report went
        #expect(topics.last == "t/10")
        #expect(outbox.droppedCount == 1)
        #expect(outbox.bytes <= 100)
    }

    @Test func reportsAreRefusedWhenOnlyUndroppableRowsRemain() throws {
        let tmp = TemporaryDirectory()
        let outbox = try Outbox(store: StateStore(directory: tmp.path), maxBytes: 30)
        try outbox.append((0..<3).map { message($0, kind: .statusUpdate) })
        let refused = try outbox.append([message(3)])
        #expect(refused.refused == 1)
        #expect(refused.ids.isEmpty)
        // A status change is kept even past the bound: losing it leaves the cloud wrong.
        let kept = try outbox.append([message(4, kind: .statusUpdate)])
        #expect(kept.ids.count == 1)
        #expect(outbox.count == 4)
    }
}
