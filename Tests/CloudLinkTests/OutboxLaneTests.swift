import Foundation
import GatewayCore
import Store
import TestSupport
import Testing
@testable import CloudLink

/// A session whose broker acknowledges every PUBLISH at once, and that notes when (on a
/// manual clock) each one was handed over: the rate budget alone decides the pace.
final class ClockedSession: CloudPublishing, Sendable {
    struct Publish: Sendable {
        var topic: String
        var payload: [UInt8]
        var at: ManualClock.Instant
    }

    private let clock: ManualClock
    private let state = Locked((generation: UInt64(0), nextId: Int32(0), connected: false, published: [Publish]()))
    private let states = Broadcast<CloudConnectionState>(replaysLatest: true, initial: .disconnected)
    private let acks = Broadcast<CloudPublishReceipt>()

    init(clock: ManualClock) { self.clock = clock }

    func publish(topic: String, payload: [UInt8]) throws(CloudPublishError) -> CloudPublishReceipt {
        let now = clock.now
        let receipt: CloudPublishReceipt? = state.withLock {
            guard $0.connected else { return nil }
            $0.nextId += 1
            $0.published.append(Publish(topic: topic, payload: payload, at: now))
            return CloudPublishReceipt(generation: $0.generation, messageId: $0.nextId)
        }
        guard let receipt else { throw .notConnected }
        acks.yield(receipt)
        return receipt
    }

    func stateChanges() -> AsyncStream<CloudConnectionState> { states.subscribe() }
    func acknowledgements() -> AsyncStream<CloudPublishReceipt> { acks.subscribe() }

    func connect() {
        let generation: UInt64 = state.withLock { $0.generation += 1; $0.nextId = 0; $0.connected = true; return $0.generation }
        states.yield(.connected(generation: generation))
    }

    func disconnect() {
        state.withLock { $0.connected = false }
        states.yield(.disconnected)
    }

    var published: [Publish] { state.withLock { $0.published } }
}

/// Moves a manual clock for a pump that sleeps on it: waits until the pump sleeps (it always
/// does while it has rows and no tokens), then lets `step` pass.
func drive(_ clock: ManualClock, step: Duration, until done: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while !done() {
        guard ContinuousClock.now < deadline else { return false }
        if clock.sleeperCount == 0 {
            try? await Task.sleep(for: .microseconds(200))
            continue
        }
        clock.advance(by: step)
    }
    return true
}

@Suite(.timeLimit(.minutes(2))) struct OutboxLaneTests {
    let identity = TestIdentity()
    var reportTopic: String { identity.topic("gateway/sub_devices/properties/report") }
    var responseTopic: String { identity.topic("commands/response/request_id=r-1") }

    func reports(_ range: ClosedRange<Int>, child: String = "c") -> [OutboxMessage] {
        range.map { OutboxMessage(kind: .propertyReport, topic: reportTopic, payload: SequencedPayload(child: child, seq: $0).bytes, nodeId: child) }
    }

    /// Item 4 of issue 11: at 5 msg/s, 46 queued reports kept a command response 9 s; at the
    /// default 50 msg/s, 1,000 of them would keep it 20 s, past the platform's window.
    @Test func aCommandResponseOvertakesABacklogOfReportsInsideTheRateBudget() async throws {
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        try outbox.append(reports(1...1000))
        let clock = ManualClock()
        let session = ClockedSession(clock: clock)
        session.connect()
        let pump = OutboxPump(outbox: outbox, session: session,
                              settings: OutboxPumpSettings(messagesPerSecond: 50, bytesPerSecond: 1_048_576),
                              store: store, clock: clock)
        let pumping = Task { await pump.run() }

        // The full bucket's burst goes at once; then the pump waits for tokens.
        #expect(await drive(clock, step: .milliseconds(20)) { session.published.count >= 20 })
        let appendedAt = clock.now
        let before = session.published.count
        try pump.append([OutboxMessage(kind: .commandResponse, topic: responseTopic, payload: Array(#"{"result_code":0}"#.utf8))])
        #expect(await drive(clock, step: .milliseconds(1)) { session.published.contains { $0.topic == responseTopic } })

        let published = session.published
        let index = try #require(published.firstIndex { $0.topic == responseTopic })
        let ahead = index - before
        let wait = appendedAt.duration(to: published[index].at)
        print("lane: command response behind \(1000 - before) queued reports at 50 msg/s: \(ahead) reports went ahead of it, waited \(wait.seconds) s")
        #expect(ahead == 0)
        #expect(wait <= .milliseconds(21))   // at most one message's worth of the budget

        // The reports keep their order, and the budget held for the whole drain.
        #expect(await drive(clock, step: .milliseconds(20)) { session.published.count == 1001 })
        let all = session.published
        #expect(all.compactMap { SequencedPayload.decode($0.payload)?.seq } == Array(1...1000))
        let span = all[0].at.duration(to: all[all.count - 1].at).seconds
        #expect(Double(all.count - 5) / span <= 50.5, "\(Double(all.count) / span) msg/s")
        pumping.cancel()
        await pumping.value
    }

    @Test func controlRowsGoFirstAgainAfterAReconnectAndReportsAreNotCountedAsReplays() async throws {
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        let session = ScriptedSession()
        let pump = OutboxPump(outbox: outbox, session: session,
                              settings: OutboxPumpSettings(window: 6, messagesPerSecond: nil, bytesPerSecond: nil), store: store)
        let pumping = Task { await pump.run() }
        try pump.append(reports(1...20))
        try pump.append([OutboxMessage(kind: .childManagement, topic: identity.topic("events/up"), payload: SequencedPayload(child: "sync", seq: 1).bytes),
                         OutboxMessage(kind: .statusUpdate, topic: identity.topic("events/up"), payload: SequencedPayload(child: "status", seq: 1).bytes)])
        session.connect()
        #expect(await Eventually.wait { pump.counters.published == 6 })
        func sent() -> [String] {
            session.publishedPayloads.compactMap(SequencedPayload.decode).map { "\($0.child)\($0.seq)" }
        }
        // The control rows were appended last and went first.
        #expect(sent() == ["sync1", "status1", "c1", "c2", "c3", "c4"])
        #expect(pump.counters.replayed == 0)
        session.acknowledge(3, from: 0)
        #expect(await Eventually.wait { pump.counters.published == 9 })

        // A response appended while the window is full of reports, then the link drops: after
        // the reconnect the response goes first, then the reports from the oldest unacknowledged.
        try pump.append([OutboxMessage(kind: .commandResponse, topic: responseTopic, payload: SequencedPayload(child: "response", seq: 1).bytes)])
        try await Task.sleep(for: .milliseconds(100))
        #expect(pump.counters.published == 9)
        session.disconnect()
        try await Task.sleep(for: .milliseconds(100))
        session.connect()
        #expect(await Eventually.wait { pump.counters.published == 15 })
        #expect(Array(sent().suffix(6)) == ["response1", "c2", "c3", "c4", "c5", "c6"])
        #expect(pump.counters.replayed == 5)
        pumping.cancel()
        await pumping.value
    }

    /// Item 20 of issue 11: one "outbox full" line per dropped row became one line, then one
    /// a minute with what was held back.
    @Test func outboxFullWarningsAreThrottledWithACountOfWhatWasHeldBack() throws {
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store, maxBytes: 10 * SequencedPayload(child: "c", seq: 100).bytes.count)
        let clock = ManualClock()
        let log = LogRecorder()
        let pump = OutboxPump(outbox: outbox, session: ScriptedSession(), store: store, clock: clock, logger: log.logger(label: "test.outbox", level: .trace))
        try pump.append(reports(100...109))                            // the bound: 10 of these
        for seq in 110...159 { try pump.append(reports(seq...seq)) }   // each drops the oldest
        #expect(outbox.droppedCount == 50)
        #expect(log.count == 1)
        #expect(log.entries.first?.text.contains("dropped 1 oldest property report(s), refused 0") == true, "\(log.entries.map(\.text))")
        clock.advance(by: .seconds(59))
        try pump.append(reports(160...160))
        #expect(log.count == 1)
        clock.advance(by: .seconds(1))
        try pump.append(reports(161...161))
        #expect(log.count == 2)
        #expect(log.entries.last?.text.contains("dropped 51 oldest property report(s), refused 0 since the last such line (50 more like it held back)") == true,
                "\(log.entries.map(\.text))")
        #expect(log.entries.allSatisfy { $0.level == .warning })
    }
}

@Suite struct StorageConditionTests {
    @Test func storageConditionChangesOnlyOnTransitions() {
        var condition = StorageCondition()
        #expect(condition.update(failure: nil, at: .seconds(1)) == nil)
        #expect(condition.update(failure: "disk full", at: .seconds(2)) == .failing("disk full"))
        #expect(condition.update(failure: "disk full", at: .seconds(3)) == nil)
        #expect(condition.update(failure: "another error", at: .seconds(4)) == nil)
        #expect(condition.update(failure: nil, at: .seconds(12)) == .recovered(after: .seconds(10)))
        #expect(condition.update(failure: nil, at: .seconds(13)) == nil)
    }
}
