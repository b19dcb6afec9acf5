import Foundation
import Testing
import TestSupport
import GRDB
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

@Suite struct OutboxLaneAndHeldTests {
    func message(_ i: Int, kind: OutboxKind = .propertyReport, size: Int = 10) -> OutboxMessage {
        OutboxMessage(kind: kind, topic: "t/\(i)", payload: Array(repeating: UInt8(i % 256), count: size), nodeId: "n\(i % 3)")
    }

    @Test func everyKindButPropertyReportsIsControl() {
        for kind in OutboxKind.allCases {
            #expect(kind.lane == (kind == .propertyReport ? .reports : .control), "\(kind)")
            #expect((kind.lane == .control) == !kind.isDroppable, "control is exactly what is never dropped")
        }
    }

    @Test func eachLaneReadsInItsOwnOrder() throws {
        let tmp = TemporaryDirectory()
        let outbox = try Outbox(store: StateStore(directory: tmp.path))
        try outbox.append([message(0), message(1, kind: .statusUpdate), message(2), message(3, kind: .commandResponse),
                           message(4, kind: .childManagement), message(5), message(6, kind: .event)])
        #expect(try outbox.pending(lane: .control, limit: 10).map(\.topic) == ["t/1", "t/3", "t/4", "t/6"])
        #expect(try outbox.pending(lane: .reports, limit: 10).map(\.topic) == ["t/0", "t/2", "t/5"])
        let control = try outbox.pending(lane: .control, limit: 10)
        #expect(outbox.lastId(of: .control) == control.last?.id)
        #expect(try outbox.pending(lane: .control, afterId: control[1].id, limit: 1).map(\.topic) == ["t/4"])
        // Both lanes in one id order still reads the whole outbox, as before lanes.
        #expect(try outbox.pending(limit: 10).count == 7)
        // The last ids survive a reopen.
        let reopened = try Outbox(store: StateStore(directory: tmp.path))
        #expect(reopened.lastId(of: .control) == outbox.lastId(of: .control))
        #expect(reopened.lastId(of: .reports) == outbox.lastId(of: .reports))
    }

    @Test func migrationV3PutsQueuedRowsInTheirLanes() throws {
        let tmp = TemporaryDirectory()
        // An outbox written by the version before lanes (schema v2).
        do {
            let pool = try DatabasePool(path: tmp.file(StateStore.fileName))
            try StateStore.migrator.migrate(pool, upTo: "v2")
            try pool.write { db in
                for (i, kind) in [OutboxKind.propertyReport, .commandResponse, .propertyReport, .statusUpdate].enumerated() {
                    try db.execute(sql: "INSERT INTO outbox (kind, topic, payload, node_id, created_at) VALUES (?, ?, ?, NULL, 0)",
                                   arguments: [kind.rawValue, "t/\(i)", Data([1])])
                }
            }
        }
        let store = try StateStore(directory: tmp.path)
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"])
        let outbox = try Outbox(store: store)
        #expect(try outbox.pending(lane: .control, limit: 10).map(\.topic) == ["t/1", "t/3"])
        #expect(try outbox.pending(lane: .reports, limit: 10).map(\.topic) == ["t/0", "t/2"])
    }

    @Test func whenTheDatabaseIsFullUndroppableMessagesAreHeldInOrderAndStoredLater() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        let outbox = try Outbox(store: store)
        try outbox.append([message(0, kind: .commandResponse)])
        let full = PageLimit { try store.writerExecute($0) }
        try full.fill()

        let report = try outbox.append([message(1, size: 5000)])
        #expect(report.unstored == 1 && report.ids.isEmpty)
        #expect(outbox.storageFailure?.kind == .full)
        let status = try outbox.append([message(2, kind: .statusUpdate, size: 5000)])
        #expect(status.held == 1)
        // While one is held, later control messages queue behind it in memory, even small ones
        // the database could still take; reports are still tried.
        let small = try outbox.append([message(3, kind: .commandResponse, size: 1)])
        #expect(small.held == 1 && small.ids.isEmpty)
        #expect(outbox.heldCount == 2)
        #expect(outbox.held(afterSeq: 0, limit: 10).map(\.topic) == ["t/2", "t/3"])
        #expect(outbox.held(afterSeq: 0, limit: 10).allSatisfy { $0.isHeld && $0.lane == .control })
        #expect(throws: StoreError.self) { try outbox.storeHeld() }

        try full.free()
        let last = try outbox.storeHeld()
        #expect(last == outbox.lastHeldSeq)
        #expect(outbox.heldCount == 0 && outbox.heldBytes == 0)
        #expect(outbox.storageFailure == nil)
        #expect(outbox.storedHeldCount == 2 && outbox.unstoredCount == 1)
        // Persisted: another connection sees them, after the row stored before, in order.
        let reopened = try Outbox(store: StateStore(directory: tmp.path))
        #expect(try reopened.pending(lane: .control, limit: 10).map(\.topic) == ["t/0", "t/2", "t/3"])
    }

    @Test func heldMessagesAreBoundedAndAnAcknowledgedOneIsForgotten() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        let outbox = try Outbox(store: store, maxHeldBytes: 10_000)
        try PageLimit { try store.writerExecute($0) }.fill()
        // Larger than the memory bound on its own: lost, and the caller is told.
        #expect(throws: StoreError.self) { try outbox.append([message(0, kind: .statusUpdate, size: 20_000)]) }
        try outbox.append([message(1, kind: .statusUpdate, size: 5000)])
        try outbox.append([message(2, kind: .event, size: 5000)])
        #expect(outbox.heldCount == 2)
        do {
            try outbox.append([message(3, kind: .commandResponse)])
            Issue.record("a third message past the memory bound was accepted")
        } catch {
            #expect(error.kind == .full)
            #expect(error.description.contains("lost"))
        }
        #expect(outbox.lostCount == 2)   // the 20,000-byte status and this one
        // A held message the broker acknowledged is forgotten without the store.
        let first = try #require(outbox.held(afterSeq: 0, limit: 1).first)
        try outbox.delete(ids: [first.id])
        #expect(outbox.held(afterSeq: 0, limit: 10).map(\.topic) == ["t/2"])
        #expect(outbox.heldBytes == 5000)
    }
}
