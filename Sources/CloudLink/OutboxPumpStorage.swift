import Foundation
import GatewayCore
import Logging
import Store

/// Where the pump is in each source within one connection: the control lane's rows, then the
/// messages held in memory (the control lane's tail), then the reports lane's rows.
struct OutboxCursors {
    struct Cursor {
        var buffer: [OutboxEntry] = []
        var next = 0
        /// Highest id read from the store (for held messages: the highest sequence number).
        var position: Int64 = 0

        var current: OutboxEntry? { next < buffer.count ? buffer[next] : nil }
    }

    var control = Cursor()
    var held = Cursor()
    var reports = Cursor()
}

/// What the pump logs about the store, shared by `append` (any thread) and the drain.
struct OutboxLogState {
    var fullWarnings = LogRateLimit<OffsetInstant>(window: OutboxPumpSettings.fullWarningInterval)
    var droppedSinceWarning = 0
    var refusedSinceWarning = 0
    var storage = StorageCondition()
    /// The pump's own store failures; the outbox keeps those of appends.
    var deleteFailure: StoreError?
    var readFailure: StoreError?
    var markFailure: StoreError?
    /// The outbox's counters when the store last worked again (they move only while it
    /// fails), for the line that says it works again.
    var tallyBefore = StorageTally()
}

/// What a time of store failures cost: held messages stored late, property reports dropped,
/// undroppable messages lost (memory full too).
struct StorageTally {
    var storedHeld = 0
    var unstored = 0
    var lost = 0

    init() {}

    init(_ outbox: Outbox) {
        storedHeld = outbox.storedHeldCount
        unstored = outbox.unstoredCount
        lost = outbox.lostCount
    }

    static func - (lhs: StorageTally, rhs: StorageTally) -> StorageTally {
        var tally = StorageTally()
        tally.storedHeld = lhs.storedHeld - rhs.storedHeld
        tally.unstored = lhs.unstored - rhs.unstored
        tally.lost = lhs.lost - rhs.lost
        return tally
    }
}

extension OutboxPump {
    typealias Cursors = OutboxCursors
    typealias LogState = OutboxLogState

    // MARK: reading

    /// The next message to publish: control rows, then held messages, then reports.
    func nextEntry() -> (WritableKeyPath<Cursors, Cursors.Cursor>, OutboxEntry)? {
        if let entry = nextRow(\.control, lane: .control) { return (\.control, entry) }
        if !holdBackHeld, let entry = nextHeld() { return (\.held, entry) }
        if let entry = nextRow(\.reports, lane: .reports) { return (\.reports, entry) }
        return nil
    }

    /// The next row of `lane`, reading from the store only when rows were appended past the
    /// cursor, so an idle lane costs no query.
    private func nextRow(_ path: WritableKeyPath<Cursors, Cursors.Cursor>, lane: OutboxLane) -> OutboxEntry? {
        while true {
            if let entry = cursors[keyPath: path].current { return entry }
            let last = outbox.lastId(of: lane)
            guard last > cursors[keyPath: path].position else { return nil }
            flushDeletes()
            let rows: [OutboxEntry]
            do {
                rows = try outbox.pending(lane: lane, afterId: cursors[keyPath: path].position, limit: settings.readBatch)
                noteFailure(\.readFailure, nil)
            } catch {
                noteFailure(\.readFailure, error)
                return nil
            }
            // Rows at or below `last` that are not returned are gone (dropped at the bound).
            cursors[keyPath: path].position = rows.last?.id ?? last
            // Acknowledged rows whose delete failed are not sent again.
            let awaiting = Set(acknowledgedIds)
            cursors[keyPath: path].buffer = awaiting.isEmpty ? rows : rows.filter { !awaiting.contains($0.id) }
            cursors[keyPath: path].next = 0
            if let id = cursors[keyPath: path].buffer.last?.id { markPublished(lane, upTo: id) }
        }
    }

    private func nextHeld() -> OutboxEntry? {
        if let entry = cursors.held.current { return entry }
        guard outbox.lastHeldSeq > cursors.held.position else { return nil }
        let entries = outbox.held(afterSeq: cursors.held.position, limit: settings.readBatch)
        cursors.held = Cursors.Cursor(buffer: entries, next: 0, position: entries.last.map { -$0.id } ?? outbox.lastHeldSeq)
        return cursors.held.current
    }

    /// Records, before the PUBLISHes, that rows of `lane` up to `id` are about to be sent.
    private func markPublished(_ lane: OutboxLane, upTo id: Int64) {
        guard id > persistedMark[lane, default: 0] else { return }
        wantedMark[lane] = id
        persistMarks()
    }

    func persistMarks() {
        guard let store else { return }
        for (lane, id) in wantedMark where id > persistedMark[lane, default: 0] {
            do {
                try store.setStateValue(lane == .control ? Self.controlPublishedUpToKey : Self.publishedUpToKey, String(id))
                persistedMark[lane] = id
                noteFailure(\.markFailure, nil)
            } catch {
                noteFailure(\.markFailure, error)
            }
        }
    }

    // MARK: deleting

    /// Deletes acknowledged rows. While deletes fail, only the storage retry tries again.
    func flushDeletes(minimum: Int = 1, retrying: Bool = false) {
        guard acknowledgedIds.count >= minimum else { return }
        let failing = logState.withLock { $0.deleteFailure != nil }
        guard !failing || retrying else { return }
        do {
            try outbox.delete(ids: acknowledgedIds)
            acknowledgedIds.removeAll(keepingCapacity: true)
            noteFailure(\.deleteFailure, nil)
        } catch {
            // The rows stay; they are not sent again while this process runs, and their
            // delete is tried again every `storageRetryInterval`.
            noteFailure(\.deleteFailure, error)
        }
        counterState.withLock { $0.awaitingDelete = acknowledgedIds.count }
    }

    // MARK: store failures

    /// While the store fails, every `storageRetryInterval`: deletes, publish marks, and the
    /// messages held in memory (once none of them is in flight).
    func retryStorageIfDue() {
        let failures = logState.withLock { ($0.deleteFailure, $0.readFailure, $0.markFailure) }
        let held = outbox.heldCount > 0
        guard failures.0 != nil || failures.1 != nil || failures.2 != nil || held else {
            storageRetryDue = nil
            holdBackHeld = false
            return
        }
        let now = uptime()
        guard let due = storageRetryDue else {
            storageRetryDue = now + OutboxPumpSettings.storageRetryInterval
            return
        }
        if held && holdBackHeld && !inFlight.values.contains(where: { $0 < 0 }) {
            storeHeld()
        }
        guard now >= due else { return }
        storageRetryDue = now + OutboxPumpSettings.storageRetryInterval
        flushDeletes(retrying: true)
        persistMarks()
        if held {
            if inFlight.values.contains(where: { $0 < 0 }) {
                // Wait for their PUBACKs: a stored copy of a message in flight would go twice.
                holdBackHeld = true
            } else {
                storeHeld()
            }
        }
        reportStorage()
    }

    private func storeHeld() {
        holdBackHeld = false
        do {
            let stored = try outbox.storeHeld()
            // Their rows are read from the control lane now; later ones are still held.
            cursors.held = Cursors.Cursor(position: max(cursors.held.position, stored))
            wake()
        } catch {
            // Still failing: keep sending them from memory.
        }
        reportStorage()
    }

    /// At exit: last attempts to delete and to store what is held; what stays in memory is lost.
    func finishStorage() {
        flushDeletes(retrying: true)
        persistMarks()
        if outbox.heldCount > 0 {
            do {
                try outbox.storeHeld()
            } catch {
                logger.error("\(outbox.heldCount) message(s) held in memory could not be stored and are lost at exit: \(error)")
            }
        }
    }

    private func noteFailure(_ path: WritableKeyPath<LogState, StoreError?>, _ error: StoreError?) {
        let changed = logState.withLock { state -> Bool in
            defer { state[keyPath: path] = error }
            return (state[keyPath: path] == nil) != (error == nil)
        }
        if changed { reportStorage() }
    }

    /// Logs once when the store starts failing and once when it works again.
    nonisolated func reportStorage() {
        let outboxFailure = outbox.storageFailure
        let held = outbox.heldCount
        let now = uptime()
        let tally = StorageTally(outbox)
        let change: (StorageCondition.Change, during: StorageTally)? = logState.withLock { state in
            let failure = state.deleteFailure ?? outboxFailure ?? state.readFailure ?? state.markFailure
            let why = failure.map(\.description) ?? (held > 0 ? "\(held) message(s) still held in memory" : nil)
            guard let change = state.storage.update(failure: why, at: now) else { return nil }
            let during = tally - state.tallyBefore
            if case .recovered = change { state.tallyBefore = tally }
            return (change, during)
        }
        switch change?.0 {
        case .failing(let why):
            logger.error("outbox storage failing (\(why)): acknowledged rows stay until they can be deleted; command responses, statuses and events are held in memory (up to \(outbox.maxHeldBytes / 1024) KiB) and still sent; property reports that cannot be stored are dropped; retrying every \(OutboxPumpSettings.storageRetryInterval), logged again when it works")
        case .recovered(let after):
            let during = change?.during ?? StorageTally()
            logger.notice("outbox storage works again after \(String(format: "%.1f", after.seconds)) s: \(during.storedHeld) held message(s) stored, \(during.unstored) property report(s) dropped, \(during.lost) message(s) lost")
        case nil:
            break
        }
    }

    /// "outbox full", at most once per `fullWarningInterval`, with what was held back.
    nonisolated func warnFull(dropped: Int, refused: Int) {
        let now = uptime()
        let line: (dropped: Int, refused: Int, heldBack: Int)? = logState.withLock { state in
            state.droppedSinceWarning += dropped
            state.refusedSinceWarning += refused
            guard let heldBack = state.fullWarnings.admit(at: OffsetInstant(offset: now)) else { return nil }
            defer { state.droppedSinceWarning = 0; state.refusedSinceWarning = 0 }
            return (state.droppedSinceWarning, state.refusedSinceWarning, heldBack)
        }
        guard let line else { return }
        let since = line.heldBack > 0 ? " since the last such line (\(line.heldBack) more like it held back)" : ""
        logger.warning("outbox full (\(outbox.maxBytes) bytes): dropped \(line.dropped) oldest property report(s), refused \(line.refused)\(since)")
    }
}
