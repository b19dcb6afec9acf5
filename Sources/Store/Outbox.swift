import Foundation
import GRDB
import GatewayCore

/// What an outbox row carries; decides its lane and what may be dropped when the outbox is full.
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

    /// Property reports wait in their own lane; everything else is control.
    public var lane: OutboxLane { isDroppable ? .reports : .control }
}

/// Which queue a message waits in. The pump drains the control lane before the reports lane,
/// inside the same rate budget, so an answer never waits behind a backlog of reports.
public enum OutboxLane: Int, Sendable, CaseIterable {
    /// Command responses, property set/get answers, child management (sync, add, delete),
    /// status updates and events: few, small, never dropped, and someone waits for them.
    case control = 0
    /// Property reports: the bulk, dropped oldest first at the byte bound.
    case reports = 1
}

/// One message waiting for the cloud's PUBACK.
public struct OutboxEntry: Sendable, Equatable {
    /// The row's id; negative for a message held in memory because the store could not take
    /// it (see `Outbox.held(afterSeq:limit:)`).
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

    public var lane: OutboxLane { kind.lane }
    /// Held in memory, not (yet) a row.
    public var isHeld: Bool { id < 0 }
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

    public var lane: OutboxLane { kind.lane }
}

/// Result of an append: the new ids, and how many older property reports made room for them.
public struct OutboxAppendResult: Sendable, Equatable {
    public var ids: [Int64]
    public var droppedOldest: Int
    /// Property reports refused because only undroppable rows were left.
    public var refused: Int
    /// Undroppable messages kept in memory because the store failed (see `Outbox.storageFailure`).
    public var held = 0
    /// Property reports dropped because the store failed.
    public var unstored = 0
}

/// The durable store-and-forward queue in front of the cloud: append before publish,
/// delete on PUBACK, replay in id order after a reconnect or restart.
///
/// When the store fails (a full disk, an I/O error), undroppable messages are held in memory,
/// up to `maxHeldBytes`, in order, until `storeHeld()` can write them; property reports that
/// cannot be stored are dropped and counted. Held messages can be sent meanwhile: they are
/// the tail of the control lane (`held(afterSeq:limit:)`).
public final class Outbox: Sendable {
    public static let defaultMaxBytes = 256 * 1024 * 1024
    /// Undroppable messages kept in memory while the store fails: hours of statuses and
    /// command answers for a few hundred children.
    public static let defaultMaxHeldBytes = 8 * 1024 * 1024

    private let store: StateStore
    public let maxBytes: Int
    public let maxHeldBytes: Int
    private let state: Locked<State>

    struct State {
        var count: Int
        var bytes: Int
        var dropped = 0
        var refused = 0
        /// Highest id ever appended per lane (ids are never reused: AUTOINCREMENT).
        var lastId: [OutboxLane: Int64]
        var held: [Held] = []
        var heldBytes = 0
        var lastHeldSeq: Int64 = 0
        var storedHeld = 0
        var unstored = 0
        var lostHeld = 0
        /// The last write's failure; a successful write clears it.
        var failure: StoreError?
    }

    struct Held {
        var seq: Int64
        var message: OutboxMessage
        var createdAt: Date
    }

    public init(store: StateStore, maxBytes: Int = Outbox.defaultMaxBytes, maxHeldBytes: Int = Outbox.defaultMaxHeldBytes) throws(StoreError) {
        self.store = store
        self.maxBytes = maxBytes
        self.maxHeldBytes = maxHeldBytes
        let (count, bytes, lastId) = try store.read("cannot size the outbox") { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b FROM outbox")
            var lastId: [OutboxLane: Int64] = [:]
            for lane in OutboxLane.allCases {
                lastId[lane] = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM outbox WHERE lane = ?", arguments: [lane.rawValue]) ?? 0
            }
            return ((row?["n"] as Int?) ?? 0, (row?["b"] as Int?) ?? 0, lastId)
        }
        state = Locked(State(count: count, bytes: bytes, lastId: lastId))
    }

    /// Rows in the store (acknowledged ones until they are deleted); held messages are not rows.
    public var count: Int { state.withLock { $0.count } }
    public var bytes: Int { state.withLock { $0.bytes } }
    /// Property reports dropped to make room since start.
    public var droppedCount: Int { state.withLock { $0.dropped } }
    /// Property reports refused since start because the outbox held only undroppable rows.
    public var refusedCount: Int { state.withLock { $0.refused } }
    /// Highest id appended to `lane`: rows above a reader's cursor exist only if this is above it.
    public func lastId(of lane: OutboxLane) -> Int64 { state.withLock { $0.lastId[lane] ?? 0 } }

    /// Why the last write failed; nil once a write succeeded again.
    public var storageFailure: StoreError? { state.withLock { $0.failure } }
    /// Undroppable messages waiting in memory for the store.
    public var heldCount: Int { state.withLock { $0.held.count } }
    public var heldBytes: Int { state.withLock { $0.heldBytes } }
    /// The sequence number of the last message held (held entries have id `-seq`).
    public var lastHeldSeq: Int64 { state.withLock { $0.lastHeldSeq } }
    /// Since start: held messages later written to the store, property reports dropped because
    /// the store failed, and undroppable messages lost because memory was at `maxHeldBytes` too.
    public var storedHeldCount: Int { state.withLock { $0.storedHeld } }
    public var unstoredCount: Int { state.withLock { $0.unstored } }
    public var lostCount: Int { state.withLock { $0.lostHeld } }

    /// Appends messages in one transaction. When the bound is reached, the oldest property
    /// reports are deleted first; undroppable messages are always kept.
    ///
    /// When the store fails, undroppable messages are held in memory and property reports
    /// are dropped (counted in the result); while messages are held, later undroppable ones
    /// queue behind them in memory. Throws only when an undroppable message could be neither
    /// stored nor held.
    @discardableResult
    public func append(_ messages: [OutboxMessage], now: Date = Date()) throws(StoreError) -> OutboxAppendResult {
        var result = OutboxAppendResult(ids: [], droppedOldest: 0, refused: 0)
        guard !messages.isEmpty else { return result }
        let holding = state.withLock { !$0.held.isEmpty }
        var toStore = messages
        var toHold: [OutboxMessage] = []
        if holding {
            toStore = messages.filter { $0.lane == .reports }
            toHold = messages.filter { $0.lane == .control }
        }
        var failure: StoreError?
        if !toStore.isEmpty {
            do {
                result = try insert(toStore, now: now)
            } catch {
                failure = error
                toHold += toStore.filter { $0.lane == .control }
                result.unstored = toStore.filter { $0.lane == .reports }.count
                state.withLock {
                    $0.failure = error
                    $0.unstored += result.unstored
                }
            }
        }
        guard !toHold.isEmpty else { return result }
        let lost = hold(toHold, now: now)
        result.held = toHold.count - lost
        if lost > 0 {
            let cause = failure ?? storageFailure ?? StoreError(.io, "earlier messages are held in memory")
            throw StoreError(cause.kind, "\(cause); \(lost) message(s) lost: \(heldBytes) bytes already held in memory (bound \(maxHeldBytes))")
        }
        return result
    }

    /// Writes the messages held in memory to the store, in order, as new rows of the control
    /// lane. Returns the sequence number of the last one written (0 when none was held);
    /// messages held meanwhile stay held. Call it only while none of them is in flight, or
    /// its PUBACK would not delete the new row.
    @discardableResult
    public func storeHeld() throws(StoreError) -> Int64 {
        let held = state.withLock { $0.held }
        guard let last = held.last else { return 0 }
        // Written with the time they were appended, so their age stays true.
        _ = try insert(held.map(\.message), now: Date(), createdAt: held.map(\.createdAt))
        state.withLock {
            let stored = $0.held.prefix { $0.seq <= last.seq }
            $0.heldBytes -= stored.reduce(0) { $0 + $1.message.payload.count }
            $0.storedHeld += stored.count
            $0.held.removeFirst(stored.count)
        }
        return last.seq
    }

    /// The oldest entries with an id greater than `afterId`, in order (both lanes).
    public func pending(afterId: Int64 = 0, limit: Int) throws(StoreError) -> [OutboxEntry] {
        try store.read("cannot read the outbox") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?", arguments: [afterId, limit]).map(Self.entry)
        }
    }

    /// The oldest entries of `lane` with an id greater than `afterId`, in order.
    public func pending(lane: OutboxLane, afterId: Int64 = 0, limit: Int) throws(StoreError) -> [OutboxEntry] {
        try store.read("cannot read the outbox") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE lane = ? AND id > ? ORDER BY id LIMIT ?",
                             arguments: [lane.rawValue, afterId, limit]).map(Self.entry)
        }
    }

    /// Held messages after `seq`, oldest first, as entries with id `-seq`. They come after
    /// every stored row of the control lane.
    public func held(afterSeq seq: Int64, limit: Int) -> [OutboxEntry] {
        state.withLock { state in
            state.held.drop { $0.seq <= seq }.prefix(limit).map { held in
                OutboxEntry(id: -held.seq, kind: held.message.kind, topic: held.message.topic, payload: held.message.payload,
                            nodeId: held.message.nodeId, createdAt: held.createdAt)
            }
        }
    }

    /// Deletes acknowledged entries: rows from the store, held ones (negative ids) from memory.
    /// Unknown ids (already dropped) are ignored. A failure keeps every row.
    public func delete(ids: [Int64]) throws(StoreError) {
        let heldIds = Set(ids.filter { $0 < 0 }.map { -$0 })
        if !heldIds.isEmpty {
            state.withLock {
                let gone = $0.held.filter { heldIds.contains($0.seq) }
                $0.heldBytes -= gone.reduce(0) { $0 + $1.message.payload.count }
                $0.held.removeAll { heldIds.contains($0.seq) }
            }
        }
        let rowIds = heldIds.isEmpty ? ids : ids.filter { $0 > 0 }
        guard !rowIds.isEmpty else { return }
        let removed: (count: Int, bytes: Int)
        do {
            removed = try store.write("cannot delete from the outbox") { db in
                var count = 0, bytes = 0
                for chunk in stride(from: 0, to: rowIds.count, by: 500).map({ Array(rowIds[$0..<min($0 + 500, rowIds.count)]) }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b FROM outbox WHERE id IN (\(marks))",
                                               arguments: StatementArguments(chunk))
                    count += row?["n"] ?? 0
                    bytes += row?["b"] ?? 0
                    try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
                }
                return (count, bytes)
            }
        } catch {
            state.withLock { $0.failure = error }
            throw error
        }
        state.withLock {
            $0.count -= removed.count
            $0.bytes -= removed.bytes
            $0.failure = nil
        }
    }

    // MARK: - Writing

    /// One transaction; `createdAt`, when given, has one date per message.
    private func insert(_ messages: [OutboxMessage], now: Date, createdAt: [Date]? = nil) throws(StoreError) -> OutboxAppendResult {
        let limit = maxBytes
        let current = state.withLock { $0.bytes }
        let reports = OutboxLane.reports.rawValue
        let result: (ids: [Int64], lanes: [OutboxLane], dropped: Int, droppedBytes: Int, refused: Int, addedBytes: Int)
        do {
            result = try store.write("cannot append to the outbox") { db in
                var ids: [Int64] = []
                var lanes: [OutboxLane] = []
                var bytes = current
                var dropped = 0, droppedBytes = 0, refused = 0, added = 0
                let insert = try db.makeStatement(sql: "INSERT INTO outbox (kind, lane, topic, payload, node_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                for (index, message) in messages.enumerated() {
                    let size = message.payload.count
                    if bytes + size > limit {
                        // Make room from the oldest droppable rows, in chunks.
                        while bytes + size > limit {
                            let victims = try Row.fetchAll(db, sql: "SELECT id, LENGTH(payload) AS n FROM outbox WHERE lane = ? ORDER BY id LIMIT 256",
                                                           arguments: [reports])
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
                            try db.execute(sql: "DELETE FROM outbox WHERE lane = ? AND id <= ?", arguments: [reports, lastId])
                            bytes -= freed
                            dropped += taken
                            droppedBytes += freed
                        }
                        if bytes + size > limit && message.kind.isDroppable {
                            refused += 1
                            continue
                        }
                    }
                    let created = createdAt?[index] ?? now
                    try insert.execute(arguments: [message.kind.rawValue, message.lane.rawValue, message.topic, Data(message.payload),
                                                   message.nodeId, created.timeIntervalSince1970])
                    ids.append(db.lastInsertedRowID)
                    lanes.append(message.lane)
                    bytes += size
                    added += size
                }
                return (ids, lanes, dropped, droppedBytes, refused, added)
            }
        } catch {
            state.withLock { $0.failure = error }
            throw error
        }
        state.withLock {
            $0.count += result.ids.count - result.dropped
            $0.bytes += result.addedBytes - result.droppedBytes
            $0.dropped += result.dropped
            $0.refused += result.refused
            for (id, lane) in zip(result.ids, result.lanes) { $0.lastId[lane] = max($0.lastId[lane] ?? 0, id) }
            $0.failure = nil
        }
        return OutboxAppendResult(ids: result.ids, droppedOldest: result.dropped, refused: result.refused)
    }

    /// Keeps messages in memory, in order, up to `maxHeldBytes`; returns how many did not fit.
    private func hold(_ messages: [OutboxMessage], now: Date) -> Int {
        let bound = maxHeldBytes
        return state.withLock { state in
            var lost = 0
            for message in messages {
                guard state.heldBytes + message.payload.count <= bound else {
                    lost += 1
                    continue
                }
                state.lastHeldSeq += 1
                state.held.append(Held(seq: state.lastHeldSeq, message: message, createdAt: now))
                state.heldBytes += message.payload.count
            }
            state.lostHeld += lost
            return lost
        }
    }

    private static func entry(_ row: Row) -> OutboxEntry {
        let data: Data = row["payload"] ?? Data()
        return OutboxEntry(id: row["id"], kind: OutboxKind(rawValue: row["kind"] ?? 0) ?? .propertyReport,
                           topic: row["topic"], payload: [UInt8](data), nodeId: row["node_id"],
                           createdAt: Date(timeIntervalSince1970: row["created_at"] ?? 0))
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
