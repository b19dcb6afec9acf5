import CoreMetrics
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
    /// While the store fails: how often deletes and held messages are tried again.
    public static let storageRetryInterval: Duration = .seconds(1)
    /// "outbox full" warnings: the first at once, then at most one per this interval.
    public static let fullWarningInterval: Duration = .seconds(60)

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
    /// Property reports dropped because the store failed (a full disk).
    public var droppedByStorage = 0
    /// Rows waiting in the outbox, and PUBLISHes waiting for PUBACK, when the counters were read.
    public var pending = 0
    public var inFlight = 0
    /// Undroppable messages held in memory because the store failed; they are sent from there.
    public var held = 0
    /// Acknowledged rows whose delete failed and is tried again.
    public var awaitingDelete = 0

    public init() {}
}

/// Moves the durable outbox to the cloud: reads rows in id order, publishes them with QoS 1
/// inside an in-flight window and the per-connection budget, and deletes a row only on its
/// PUBACK. After every (re)connect, and after a restart, it replays from the oldest row.
///
/// Two lanes share the budget: the control lane (command responses, child management,
/// statuses, events) goes before the reports lane, so an answer never waits behind a backlog
/// of property reports; each lane keeps its own order. Messages the outbox holds in memory
/// while the store fails are the control lane's tail and are sent from there.
///
/// Writers append through `append(_:)` (or call `wake()` after appending elsewhere): the pump
/// sleeps on a signal, never polls.
public actor OutboxPump {
    /// gateway_state keys: highest id of each lane ever handed to a connection, written before
    /// the PUBLISH, so rows replayed after a restart are counted as possible duplicates. The
    /// reports lane keeps the key that covered the whole outbox before it had lanes.
    public static let publishedUpToKey = "cloud_outbox_published_up_to"
    public static let controlPublishedUpToKey = "cloud_outbox_control_published_up_to"

    public nonisolated let outbox: Outbox
    private let session: any CloudPublishing
    let settings: OutboxPumpSettings
    let store: StateStore?
    private let clock: any Clock<Duration>
    let logger: Logger
    /// Time on `clock` since the pump was made.
    nonisolated let uptime: @Sendable () -> Duration

    private nonisolated let signal: AsyncStream<Void>
    private nonisolated let signalContinuation: AsyncStream<Void>.Continuation
    nonisolated let counterState = Locked(OutboxPumpCounters())
    nonisolated let logState = Locked(LogState())

    private var generation: UInt64?
    var inFlight: [CloudPublishReceipt: Int64] = [:]
    /// When each PUBLISH in flight was handed to the connection (`uptime`), for `ackLatency`.
    private var publishedAt: [CloudPublishReceipt: Duration] = [:]
    /// Time from a PUBLISH to its PUBACK: `ackLatencyMetric`.
    private let ackLatency: CoreMetrics.Timer
    /// The histogram of publish-to-PUBACK times.
    public static let ackLatencyMetric = "edgegw_cloud_publish_ack_seconds"
    /// Rows re-sent in this run and not yet acknowledged.
    private var replayedIds: Set<Int64> = []
    /// Acknowledged rows not deleted yet.
    var acknowledgedIds: [Int64] = []
    var cursors = Cursors()
    private var highestPublished: [OutboxLane: Int64] = [:]
    private var highestHeldPublished: Int64 = 0
    /// Publish marks saved, and those to save (when saving failed).
    var persistedMark: [OutboxLane: Int64] = [:]
    var wantedMark: [OutboxLane: Int64] = [:]
    /// While the store fails: when deletes, held messages and marks are tried again.
    var storageRetryDue: Duration?
    private var retryTimer: Task<Void, Never>?
    /// Held messages are not sent while the pump waits to write them to the store.
    var holdBackHeld = false
    /// Set when the service stops: nothing more is published.
    private var stopping = false

    /// - Parameters:
    ///   - store: where the published-up-to marks live; without it, replays after a restart
    ///     are not told apart from first sends.
    public init(outbox: Outbox, session: any CloudPublishing, settings: OutboxPumpSettings = OutboxPumpSettings(),
                store: StateStore? = nil, clock: any Clock<Duration> = ContinuousClock(),
                logger: Logger = Logger(label: "edgegw.outbox"), metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.outbox = outbox
        ackLatency = CoreMetrics.Timer(label: Self.ackLatencyMetric, factory: metrics)
        self.session = session
        self.settings = settings
        self.store = store
        self.clock = clock
        self.logger = logger
        uptime = clock.elapsedSinceNow()
        (signal, signalContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Appends to the outbox and wakes the pump. Logs what the byte bound dropped (throttled)
    /// and when the store starts or stops failing.
    @discardableResult
    public nonisolated func append(_ messages: [OutboxMessage]) throws(StoreError) -> OutboxAppendResult {
        let result: OutboxAppendResult
        do {
            result = try outbox.append(messages)
        } catch {
            reportStorage()
            wake()
            throw error
        }
        if result.droppedOldest > 0 || result.refused > 0 { warnFull(dropped: result.droppedOldest, refused: result.refused) }
        reportStorage()
        wake()
        return result
    }

    /// Tells the pump that rows were appended.
    public nonisolated func wake() { signalContinuation.yield(()) }

    public nonisolated var counters: OutboxPumpCounters {
        var counters = counterState.withLock { $0 }
        counters.droppedByBound = outbox.droppedCount + outbox.refusedCount
        counters.droppedByStorage = outbox.unstoredCount
        counters.pending = outbox.count
        counters.held = outbox.heldCount
        return counters
    }

    /// Runs until its task is cancelled; acknowledged rows are deleted, and held messages
    /// stored if the store takes them, before it returns.
    public func run() async {
        let states = session.stateChanges()
        let acks = session.acknowledgements()
        if let store {
            do {
                let reports = try store.stateValue(Self.publishedUpToKey).flatMap { Int64($0) } ?? 0
                let control = try store.stateValue(Self.controlPublishedUpToKey).flatMap { Int64($0) } ?? reports
                persistedMark = [.control: control, .reports: reports]
                highestPublished = persistedMark
            } catch {
                logger.error("cannot read the outbox publish marks: \(error)")
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await state in states { await self.stateChanged(state) } }
            group.addTask { for await receipt in acks { await self.acknowledged(receipt) } }
            await clock.drivePump(self)
            group.cancelAll()
        }
        retryTimer?.cancel()
        retryTimer = nil
        finishStorage()
    }

    /// For a graceful stop: keeps publishing until everything queued is acknowledged, the link
    /// is down, or `timeout` has passed; then publishes nothing more. Returns how many
    /// messages are still queued (they stay in the outbox for the next start).
    public func drainBeforeStop(timeout: Duration) async -> Int {
        let deadline = uptime() + timeout
        while generation != nil, !Task.isCancelled {
            flushDeletes()
            if inFlight.isEmpty && queued == 0 { break }
            let left = deadline - uptime()
            if left <= .zero { break }
            do { try await clock.sleep(for: min(left, .milliseconds(10))) } catch { break }
        }
        stopping = true
        flushDeletes()
        return queued
    }

    /// Messages not yet acknowledged: stored rows (minus those awaiting their delete) and held ones.
    private var queued: Int { max(0, outbox.count - acknowledgedIds.count) + outbox.heldCount }

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
        publishedAt.removeAll()
        counterState.withLock { $0.inFlight = 0 }
        wake()
    }

    private func acknowledged(_ receipt: CloudPublishReceipt) {
        guard let id = inFlight.removeValue(forKey: receipt) else { return }
        if let sent = publishedAt.removeValue(forKey: receipt) { ackLatency.recordNanoseconds((uptime() - sent).inNanoseconds) }
        if id < 0 {
            // Held in memory: forgetting it needs no store.
            try? outbox.delete(ids: [id])
        } else {
            acknowledgedIds.append(id)
        }
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
        var servedGeneration: UInt64?

        // Acknowledged rows are deleted before every read from the store, so a reread after
        // a reconnect never sends an acknowledged row again, and before every idle wait, so
        // none linger.
        while !Task.isCancelled {
            retryStorageIfDue()
            guard let generation, !stopping else {
                flushDeletes()
                armRetryTimer(clock: clock)
                _ = await signals.next()
                continue
            }
            if generation != servedGeneration {
                servedGeneration = generation
                cursors = Cursors()
                bucket = makeBucket(clock: clock)
            }
            if inFlight.count >= settings.window {
                // PUBACKs keep coming while the window is full: delete in batches, not per row.
                flushDeletes(minimum: max(1, settings.window / 4))
                armRetryTimer(clock: clock)
                _ = await signals.next()
                continue
            }
            guard let next = nextEntry() else {
                flushDeletes()
                armRetryTimer(clock: clock)
                _ = await signals.next()
                continue
            }
            let (source, entry) = next
            if var shaping = bucket {
                let wait = shaping.reserve(bytes: entry.payload.count, at: clock.now)
                bucket = shaping
                if let wait {
                    flushDeletes()
                    // After the wait the lanes are looked at again: a control message appended
                    // meanwhile goes before this one.
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
                    if entry.isHeld { try? outbox.delete(ids: [entry.id]) } else { acknowledgedIds.append(entry.id) }
                    counterState.withLock { $0.rejected += 1 }
                    cursors[keyPath: source].next += 1
                case .failed(let reason):
                    logger.warning("publish failed (\(reason)); retrying")
                    do { try await clock.sleep(for: .milliseconds(100)) } catch { return }
                }
                continue
            }
            inFlight[receipt] = entry.id
            publishedAt[receipt] = uptime()
            cursors[keyPath: source].next += 1
            let replay: Bool
            if entry.isHeld {
                replay = -entry.id <= highestHeldPublished
                if !replay { highestHeldPublished = -entry.id }
            } else {
                replay = entry.id <= highestPublished[entry.lane, default: 0]
                if !replay { highestPublished[entry.lane] = entry.id }
            }
            if replay { replayedIds.insert(entry.id) }
            counterState.withLock {
                $0.published += 1
                if replay { $0.replayed += 1 }
                $0.inFlight = inFlight.count
            }
        }
    }

    /// Before waiting for a signal (an append, a PUBACK, a state change): while the store
    /// fails, a timer signals the next retry.
    private func armRetryTimer<C: Clock<Duration>>(clock: C) {
        if let due = storageRetryDue, retryTimer == nil {
            let delay = max(.zero, due - uptime())
            retryTimer = Task { [weak self] in
                try? await clock.sleep(for: delay)
                await self?.retryTimerFired()
            }
        }
    }

    private func retryTimerFired() {
        retryTimer = nil
        wake()
    }

    private func makeBucket<C: Clock<Duration>>(clock: C) -> TokenBucket<C.Instant>? {
        guard settings.isShaped else { return nil }
        return TokenBucket(messagesPerSecond: settings.messagesPerSecond ?? Int.max / 2,
                           bytesPerSecond: settings.bytesPerSecond ?? Int.max / 2, now: clock.now)
    }
}

extension Clock where Duration == Swift.Duration {
    /// Calling through a member opens the `any Clock` existential, so the drain is generic over the concrete clock.
    fileprivate func drivePump(_ pump: isolated OutboxPump) async { await pump.drain(clock: self) }

    /// Time on this clock since now, as a function.
    fileprivate func elapsedSinceNow() -> @Sendable () -> Swift.Duration {
        let start = now
        return { start.duration(to: self.now) }
    }
}
