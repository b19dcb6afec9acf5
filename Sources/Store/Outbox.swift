import Foundation
import GRDB
import GatewayCore

/// What an outbox row carries; decides what may be dropped when the outbox is full.
public enum OutboxKind: Int, Sendable, CaseIterable {
    case propertyReport = 0
    case statusUpdate = 1
    case commandResponse = 2
    case event = 3
    case message = 4
    case childManagement = 5

    /// Only property reports may be dropped: a newer report supersedes them, while a lost
    /// command response or status change leaves the cloud wrong.
    public var isDroppable: Bool { self == .propertyReport }
}

/// One message waiting for the cloud's PUBACK.
public struct OutboxEntry: Sendable, Equatable {
    public var id: Int64
    public var kind: OutboxKind
    public var topic: String
    public var payload: [UInt8]
    public var nodeId: String?
    public var createdAt: Date

    public init(id: Int64, kind: OutboxKind, topic: String, payload: [UInt8], nodeId: String?, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.topic = topic
        self.payload = payload
        self.nodeId = nodeId
        self.createdAt = createdAt
    }
}

/// A message to append.
public struct OutboxMessage: Sendable, Equatable {
    public var kind: OutboxKind
    public var topic: String
    public var payload: [UInt8]
    public var nodeId: String?

    public init(kind: OutboxKind, topic: String, payload: [UInt8], nodeId: String? = nil) {
        self.kind = kind
        self.topic = topic
        self.payload = payload
        self.nodeId = nodeId
    }
}

/// Result of an append: the new ids, and how many older property reports made room for them.
public struct OutboxAppendResult: Sendable, Equatable {
    public var ids: [Int64]
    public var droppedOldest: Int
    /// Property reports refused because only undroppable rows were left.
    public var refused: Int
}

/// The durable store-and-forward queue in front of the cloud: append before publish,
/// delete on PUBACK, replay in id order after a reconnect or restart.
public final class Outbox: Sendable {
    public static let defaultMaxBytes = 256 * 1024 * 1024

    private let store: StateStore
    public let maxBytes: Int
    private let totals: Locked<Totals>

    struct Totals {
        var count: Int
        var bytes: Int
        var dropped: Int
        var refused: Int
    }

    public init(store: StateStore, maxBytes: Int = Outbox.defaultMaxBytes) throws(StoreError) {
        self.store = store
        self.maxBytes = maxBytes
        let (count, bytes) = try store.read("cannot size the outbox") { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b FROM outbox")
            return ((row?["n"] as Int?) ?? 0, (row?["b"] as Int?) ?? 0)
        }
        totals = Locked(Totals(count: count, bytes: bytes, dropped: 0, refused: 0))
    }

    public var count: Int { totals.withLock { $0.count } }
    public var bytes: Int { totals.withLock { $0.bytes } }
    /// Property reports dropped to make room since start.
    public var droppedCount: Int { totals.withLock { $0.dropped } }
    /// Property reports refused since start because the outbox held only undroppable rows.
    public var refusedCount: Int { totals.withLock { $0.refused } }

    /// Appends messages in one transaction. When the bound is reached, the oldest property
    /// reports are deleted first; undroppable messages are always kept.
    @discardableResult
    public func append(_ messages: [OutboxMessage], now: Date = Date()) throws(StoreError) -> OutboxAppendResult {
        guard !messages.isEmpty else { return OutboxAppendResult(ids: [], droppedOldest: 0, refused: 0) }
        let limit = maxBytes
        let current = totals.withLock { $0.bytes }
        let result: (ids: [Int64], dropped: Int, droppedBytes: Int, refused: Int, addedBytes: Int) =
            try store.write("cannot append to the outbox") { db in
                var ids: [Int64] = []
                var bytes = current
                var dropped = 0, droppedBytes = 0, refused = 0, added = 0
                let insert = try db.makeStatement(sql: "INSERT INTO outbox (kind, topic, payload, node_id, created_at) VALUES (?, ?, ?, ?, ?)")
                for message in messages {
                    let size = message.payload.count
                    if bytes + size > limit {
                        // Make room from the oldest droppable rows, in chunks.
                        while bytes + size > limit {
                            let victims = try Row.fetchAll(db, sql: "SELECT id, LENGTH(payload) AS n FROM outbox WHERE kind = ? ORDER BY id LIMIT 256",
                                                           arguments: [OutboxKind.propertyReport.rawValue])
                            if victims.isEmpty { break }
                            var freed = 0
                            var lastId: Int64 = 0
                            var taken = 0
                            for victim in victims {
                                freed += victim["n"] as Int? ?? 0
                                lastId = victim["id"]
                                taken += 1
                                if bytes - freed + size <= limit { break }
                            }
                            try db.execute(sql: "DELETE FROM outbox WHERE kind = ? AND id <= ?",
                                           arguments: [OutboxKind.propertyReport.rawValue, lastId])
                            bytes -= freed
                            dropped += taken
                            droppedBytes += freed
                        }
                        if bytes + size > limit && message.kind.isDroppable {
                            refused += 1
                            continue
                        }
                    }
                    try insert.execute(arguments: [message.kind.rawValue, message.topic, Data(message.payload),
                                                   message.nodeId, now.timeIntervalSince1970])
                    ids.append(db.lastInsertedRowID)
                    bytes += size
                    added += size
                }
                return (ids, dropped, droppedBytes, refused, added)
            }
        totals.withLock {
            $0.count += result.ids.count - result.dropped
            $0.bytes += result.addedBytes - result.droppedBytes
            $0.dropped += result.dropped
            $0.refused += result.refused
        }
        return OutboxAppendResult(ids: result.ids, droppedOldest: result.dropped, refused: result.refused)
    }

    /// The oldest entries with an id greater than `afterId`, in order.
    public func pending(afterId: Int64 = 0, limit: Int) throws(StoreError) -> [OutboxEntry] {
        try store.read("cannot read the outbox") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?", arguments: [afterId, limit]).map { row in
                let data: Data = row["payload"] ?? Data()
                return OutboxEntry(id: row["id"], kind: OutboxKind(rawValue: row["kind"] ?? 0) ?? .propertyReport,
                                   topic: row["topic"], payload: [UInt8](data), nodeId: row["node_id"],
                                   createdAt: Date(timeIntervalSince1970: row["created_at"] ?? 0))
            }
        }
    }

    /// Deletes acknowledged entries. Unknown ids (already dropped) are ignored.
    public func delete(ids: [Int64]) throws(StoreError) {
        guard !ids.isEmpty else { return }
        let removed: (count: Int, bytes: Int) = try store.write("cannot delete from the outbox") { db in
            var count = 0, bytes = 0
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b FROM outbox WHERE id IN (\(marks))",
                                           arguments: StatementArguments(chunk))
                count += row?["n"] ?? 0
                bytes += row?["b"] ?? 0
                try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
            }
            return (count, bytes)
        }
        totals.withLock {
            $0.count -= removed.count
            $0.bytes -= removed.bytes
        }
    }
}

/// Whatever takes messages for the cloud: the outbox itself, or the pump in front of it
/// (which also wakes its drain).
public protocol OutboxWriting: Sendable {
    @discardableResult
    func append(_ messages: [OutboxMessage]) throws(StoreError) -> OutboxAppendResult
}

extension Outbox: OutboxWriting {
    @discardableResult
    public func append(_ messages: [OutboxMessage]) throws(StoreError) -> OutboxAppendResult {
        try append(messages, now: Date())
    }
}
