import Foundation
import GatewayCore
import Logging
import Store

/// Settings of the outbox pump; the gateway maps `[cloud.limits]` onto them.
public struct OutboxPumpSettings: Sendable, Equatable {
    /// PUBLISHes sent and not yet acknowledged; beyond it the pump waits for PUBACKs.
    public static let defaultWindow = 100
    /// Rows read from SQLite at once.
    public static let defaultReadBatch = 256
    /// Acknowledged rows deleted in one transaction at most.
    public static let deleteBatch = 512

    public var window: Int
    public var readBatch: Int
    /// The per-connection budget; nil means unshaped (benchmarks, private brokers).
    public var messagesPerSecond: Int?
    public var bytesPerSecond: Int?

    public init(window: Int = Self.defaultWindow, readBatch: Int = Self.defaultReadBatch,
                messagesPerSecond: Int? = TokenBucket<ContinuousClock.Instant>.defaultMessagesPerSecond,
                bytesPerSecond: Int? = TokenBucket<ContinuousClock.Instant>.defaultBytesPerSecond) {
        self.window = max(1, window)
        self.readBatch = max(1, readBatch)
        self.messagesPerSecond = messagesPerSecond
        self.bytesPerSecond = bytesPerSecond
    }

    /// No rate cap.
    public static var unshaped: OutboxPumpSettings { OutboxPumpSettings(messagesPerSecond: nil, bytesPerSecond: nil) }

    var isShaped: Bool { messagesPerSecond != nil || bytesPerSecond != nil }
}

/// What the pump has done since it started.
public struct OutboxPumpCounters: Sendable, Equatable {
    /// PUBLISHes handed to the connection, replays included.
    public var published = 0
    /// PUBACKs received; each deleted its row.
    public var acknowledged = 0
    /// PUBLISHes of rows sent before (after a reconnect, or before a restart) without a PUBACK.
    public var replayed = 0
    /// Replayed rows the broker then acknowledged: the cloud may hold each of them twice.
    /// An upper bound on the duplicates it sees.
    public var duplicates = 0
    /// Rows deleted unsent because they can never be published (invalid topic, oversized).
    public var rejected = 0
    /// Property reports the outbox dropped (oldest first) or refused at its byte bound.
    public var droppedByBound = 0
    /// Rows waiting in the outbox, and PUBLISHes waiting for PUBACK, when the counters were read.
    public var pending = 0
    public var inFlight = 0

    public init() {}
}

/// Moves the durable outbox to the cloud: reads rows in id order, publishes them with QoS 1
/// inside an in-flight window and the per-connection budget, and deletes a row only on its
/// PUBACK. After every (re)connect, and after a restart, it replays from the oldest row.
///
/// Writers append through `append(_:)` (or call `wake()` after appending elsewhere): the pump
/// sleeps on a signal, never polls.
public actor OutboxPump {
    /// gateway_state key: highest outbox id ever handed to a connection, written before the
    /// PUBLISH, so rows replayed after a restart are counted as possible duplicates.
    public static let publishedUpToKey = "cloud_outbox_published_up_to"

    public nonisolated let outbox: Outbox
    private let session: any CloudPublishing
    private let settings: OutboxPumpSettings
    private let store: StateStore?
    private let clock: any Clock<Duration>
    private let logger: Logger

    private nonisolated let signal: AsyncStream<Void>
    private nonisolated let signalContinuation: AsyncStream<Void>.Continuation
    private nonisolated let counterState = Locked(OutboxPumpCounters())

    private var generation: UInt64?
    private var inFlight: [CloudPublishReceipt: Int64] = [:]
    /// Rows re-sent in this run and not yet acknowledged.
    private var replayedIds: Set<Int64> = []
    private var acknowledgedIds: [Int64] = []
    private var highestPublished: Int64 = 0
    private var persistedMark: Int64 = 0

    /// - Parameters:
    ///   - store: where the published-up-to mark lives; without it, replays after a restart
    ///     are not told apart from first sends.
    public init(outbox: Outbox, session: any CloudPublishing, settings: OutboxPumpSettings = OutboxPumpSettings(),
                store: StateStore? = nil, clock: any Clock<Duration> = ContinuousClock(),
                logger: Logger = Logger(label: "edgegw.outbox")) {
        self.outbox = outbox
        self.session = session
        self.settings = settings
        self.store = store
        self.clock = clock
        self.logger = logger
        (signal, signalContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Appends to the outbox and wakes the pump. Logs what the byte bound dropped.
    @discardableResult
    public nonisolated func append(_ messages: [OutboxMessage]) throws(StoreError) -> OutboxAppendResult {
        let result = try outbox.append(messages)
        if result.droppedOldest > 0 || result.refused > 0 {
            logger.warning("outbox full (\(outbox.maxBytes) bytes): dropped \(result.droppedOldest) oldest property reports, refused \(result.refused)")
        }
        wake()
        return result
    }

    /// Tells the pump that rows were appended.
    public nonisolated func wake() { signalContinuation.yield(()) }

    public nonisolated var counters: OutboxPumpCounters {
        var counters = counterState.withLock { $0 }
        counters.droppedByBound = outbox.droppedCount + outbox.refusedCount
        counters.pending = outbox.count
        return counters
    }

    /// Runs until its task is cancelled; acknowledged rows are deleted before it returns.
    public func run() async {
        let states = session.stateChanges()
        let acks = session.acknowledgements()
        if let store {
            do {
                persistedMark = try store.stateValue(Self.publishedUpToKey).flatMap { Int64($0) } ?? 0
                highestPublished = persistedMark
            } catch {
                logger.error("cannot read the outbox publish mark: \(error)")
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await state in states { await self.stateChanged(state) } }
            group.addTask { for await receipt in acks { await self.acknowledged(receipt) } }
            await clock.drivePump(self)
            group.cancelAll()
        }
        flushDeletes()
    }

    // MARK: events

    private func stateChanged(_ state: CloudConnectionState) {
        switch state {
        case .connected(let generation):
            // Replay from the oldest row: what was in flight on the old connection is unknown.
            self.generation = generation
        case .disconnected:
            generation = nil
        }
        inFlight.removeAll()
        counterState.withLock { $0.inFlight = 0 }
        wake()
    }

    private func acknowledged(_ receipt: CloudPublishReceipt) {
        guard let id = inFlight.removeValue(forKey: receipt) else { return }
        acknowledgedIds.append(id)
        let duplicate = replayedIds.remove(id) != nil
        counterState.withLock {
            $0.acknowledged += 1
            if duplicate { $0.duplicates += 1 }
            $0.inFlight = inFlight.count
        }
        if acknowledgedIds.count >= OutboxPumpSettings.deleteBatch { flushDeletes() }
        wake()
    }

    // MARK: drain

    fileprivate func drain<C: Clock<Duration>>(clock: C) async {
        var signals = signal.makeAsyncIterator()
        var bucket = makeBucket(clock: clock)
        var buffer: [OutboxEntry] = []
        var next = 0
        var cursor: Int64 = 0
        var servedGeneration: UInt64?

        // Acknowledged rows are deleted before every read, so a reread after a reconnect never
        // sends an acknowledged row again, and before every idle wait, so none linger.
        while !Task.isCancelled {
            guard let generation else {
                flushDeletes()
                _ = await signals.next()
                continue
            }
            if generation != servedGeneration {
                servedGeneration = generation
                buffer = []
                next = 0
                cursor = 0
                bucket = makeBucket(clock: clock)
            }
            if inFlight.count >= settings.window {
                // PUBACKs keep coming while the window is full: delete in batches, not per row.
                flushDeletes(minimum: max(1, settings.window / 4))
                _ = await signals.next()
                continue
            }
            if next >= buffer.count {
                flushDeletes()
                do {
                    buffer = try outbox.pending(afterId: cursor, limit: settings.readBatch)
                } catch {
                    logger.error("cannot read the outbox: \(error)")
                    buffer = []
                }
                next = 0
                if buffer.isEmpty {
                    _ = await signals.next()
                    continue
                }
                markPublished(upTo: buffer[buffer.count - 1].id)
            }
            let entry = buffer[next]
            if var shaping = bucket {
                let wait = shaping.reserve(bytes: entry.payload.count, at: clock.now)
                bucket = shaping
                if let wait {
                    flushDeletes()
                    do { try await clock.sleep(for: wait) } catch { break }
                    continue
                }
            }
            let receipt: CloudPublishReceipt
            do {
                receipt = try session.publish(topic: entry.topic, payload: entry.payload)
            } catch {
                switch error {
                case .notConnected:
                    // The state stream will say so too; wait for it.
                    if self.generation == generation { self.generation = nil }
                case .rejected(let reason):
                    logger.error("outbox row \(entry.id) on \(entry.topic) can never be published (\(reason)); deleting it")
                    acknowledgedIds.append(entry.id)
                    counterState.withLock { $0.rejected += 1 }
                    next += 1
                    cursor = entry.id
                case .failed(let reason):
                    logger.warning("publish failed (\(reason)); retrying")
                    do { try await clock.sleep(for: .milliseconds(100)) } catch { return }
                }
                continue
            }
            inFlight[receipt] = entry.id
            next += 1
            cursor = entry.id
            let replay = entry.id <= highestPublished
            if replay { replayedIds.insert(entry.id) } else { highestPublished = entry.id }
            counterState.withLock {
                $0.published += 1
                if replay { $0.replayed += 1 }
                $0.inFlight = inFlight.count
            }
        }
    }

    private func makeBucket<C: Clock<Duration>>(clock: C) -> TokenBucket<C.Instant>? {
        guard settings.isShaped else { return nil }
        return TokenBucket(messagesPerSecond: settings.messagesPerSecond ?? Int.max / 2,
                           bytesPerSecond: settings.bytesPerSecond ?? Int.max / 2, now: clock.now)
    }

    /// Records, before the PUBLISHes, that rows up to `id` are about to be sent.
    private func markPublished(upTo id: Int64) {
        guard let store, id > persistedMark else { return }
        do {
            try store.setStateValue(Self.publishedUpToKey, String(id))
            persistedMark = id
        } catch {
            logger.error("cannot save the outbox publish mark: \(error)")
        }
    }

    private func flushDeletes(minimum: Int = 1) {
        guard acknowledgedIds.count >= minimum else { return }
        do {
            try outbox.delete(ids: acknowledgedIds)
            acknowledgedIds.removeAll(keepingCapacity: true)
        } catch {
            // The rows stay and are sent again after the next reconnect: a duplicate, not a loss.
            logger.error("cannot delete acknowledged outbox rows: \(error)")
            acknowledgedIds.removeAll(keepingCapacity: true)
        }
    }
}

extension Clock where Duration == Swift.Duration {
    /// Calling through a member opens the `any Clock` existential, so the drain is generic over the concrete clock.
    fileprivate func drivePump(_ pump: isolated OutboxPump) async { await pump.drain(clock: self) }
}
