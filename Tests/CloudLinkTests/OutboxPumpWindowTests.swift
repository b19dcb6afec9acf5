import Foundation
import GatewayCore
import Store
import TestSupport
import Testing
@testable import CloudLink

/// A session that records publishes and acknowledges only when the test says so.
final class ScriptedSession: CloudPublishing, Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextId: Int32 = 0
        var published: [(receipt: CloudPublishReceipt, topic: String, payload: [UInt8])] = []
        var connected = false
        /// Publishes of the current connection acknowledged by `acknowledgeOutstanding()`.
        var acknowledgedCount = 0
    }

    private let state = Locked(State())
    private let states = Broadcast<CloudConnectionState>(replaysLatest: true, initial: .disconnected)
    private let acks = Broadcast<CloudPublishReceipt>()

    func publish(topic: String, payload: [UInt8]) throws(CloudPublishError) -> CloudPublishReceipt {
        if topic.contains("#") { throw .rejected("invalid topic") }
        let receipt: CloudPublishReceipt? = state.withLock {
            guard $0.connected else { return nil }
            $0.nextId += 1
            let receipt = CloudPublishReceipt(generation: $0.generation, messageId: $0.nextId)
            $0.published.append((receipt, topic, payload))
            return receipt
        }
        guard let receipt else { throw .notConnected }
        return receipt
    }

    func stateChanges() -> AsyncStream<CloudConnectionState> { states.subscribe() }

    func acknowledgements() -> AsyncStream<CloudPublishReceipt> { acks.subscribe() }

    func connect() {
        let generation: UInt64 = state.withLock {
            $0.generation += 1; $0.nextId = 0; $0.connected = true; $0.acknowledgedCount = 0
            return $0.generation
        }
        states.yield(.connected(generation: generation))
    }

    func disconnect() {
        state.withLock { $0.connected = false }
        states.yield(.disconnected)
    }

    var publishedSequences: [Int] {
        state.withLock { $0.published.compactMap { SequencedPayload.decode($0.payload)?.seq } }
    }

    var publishedTopics: [String] { state.withLock { $0.published.map(\.topic) } }

    var publishedPayloads: [[UInt8]] { state.withLock { $0.published.map(\.payload) } }

    /// PUBACKs every publish of the current connection not acknowledged by this method before.
    func acknowledgeOutstanding() {
        let receipts: [CloudPublishReceipt] = state.withLock { state in
            let current = state.published.map(\.receipt).filter { $0.generation == state.generation }
            defer { state.acknowledgedCount = current.count }
            return Array(current.dropFirst(state.acknowledgedCount))
        }
        for receipt in receipts { acks.yield(receipt) }
    }

    /// PUBACKs the first `count` unacknowledged publishes of the current connection.
    func acknowledge(_ count: Int, from offset: Int) {
        let receipts: [CloudPublishReceipt] = state.withLock { state in
            state.published.map(\.receipt).filter { $0.generation == state.generation }.dropFirst(offset).prefix(count).map { $0 }
        }
        for receipt in receipts { acks.yield(receipt) }
    }
}

@Suite(.timeLimit(.minutes(1))) struct OutboxPumpWindowTests {
    let identity = TestIdentity()

    private func rows(_ range: ClosedRange<Int>) -> [OutboxMessage] {
        range.map { OutboxMessage(kind: .propertyReport, topic: identity.topic("gateway/sub_devices/properties/report"),
                                  payload: SequencedPayload(child: "c", seq: $0).bytes) }
    }

    @Test func keepsTheInFlightWindowAndReplaysFromTheOldestAfterAReconnect() async throws {
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        let session = ScriptedSession()
        session.connect()
        let pump = OutboxPump(outbox: outbox, session: session, settings: OutboxPumpSettings(window: 10, messagesPerSecond: nil, bytesPerSecond: nil), store: store)
        let pumping = Task { await pump.run() }
        try pump.append(rows(1...50))

        #expect(await Eventually.wait { pump.counters.published == 10 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(pump.counters.published == 10, "never more than the window without PUBACKs")
        #expect(pump.counters.inFlight == 10)

        session.acknowledge(4, from: 0)
        #expect(await Eventually.wait { pump.counters.published == 14 && pump.counters.acknowledged == 4 })
        #expect(await Eventually.wait { outbox.count == 46 })

        // The link drops with 10 in flight; the next connection starts again from row 5.
        session.disconnect()
        try await Task.sleep(for: .milliseconds(100))
        session.connect()
        #expect(await Eventually.wait { pump.counters.published == 24 })
        #expect(session.publishedSequences == Array(1...14) + Array(5...14))
        #expect(pump.counters.replayed == 10)
        session.acknowledge(10, from: 0)
        #expect(await Eventually.wait { pump.counters.duplicates == 10 && pump.counters.acknowledged == 14 })

        pumping.cancel()
        await pumping.value
    }

    @Test func aRowThatCanNeverBePublishedIsDeletedAndCountedNotRetriedForever() async throws {
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        let session = ScriptedSession()
        session.connect()
        let pump = OutboxPump(outbox: outbox, session: session, settings: .unshaped, store: store)
        let pumping = Task { await pump.run() }
        try pump.append(rows(1...2) + [OutboxMessage(kind: .event, topic: "bad/#", payload: [1])] + rows(3...4))
        #expect(await Eventually.wait { pump.counters.published == 4 })
        #expect(session.publishedSequences == [1, 2, 3, 4])
        #expect(pump.counters.rejected == 1)
        session.acknowledge(4, from: 0)
        #expect(await Eventually.wait { outbox.count == 0 })
        pumping.cancel()
        await pumping.value
    }

    @Test func aRestartCountsRowsSentBeforeAsReplays() async throws {
        let directory = TemporaryDirectory()
        do {
            let store = try StateStore(directory: directory.path)
            let outbox = try Outbox(store: store)
            let session = ScriptedSession()
            session.connect()
            let pump = OutboxPump(outbox: outbox, session: session, settings: OutboxPumpSettings(window: 5, messagesPerSecond: nil, bytesPerSecond: nil), store: store)
            let pumping = Task { await pump.run() }
            try pump.append(rows(1...20))
            #expect(await Eventually.wait { pump.counters.published == 5 })
            session.acknowledge(2, from: 0)
            #expect(await Eventually.wait { pump.counters.acknowledged == 2 })
            pumping.cancel()
            await pumping.value
        }
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        #expect(outbox.count == 18)
        let session = ScriptedSession()
        session.connect()
        let pump = OutboxPump(outbox: outbox, session: session, settings: .unshaped, store: store)
        let pumping = Task { await pump.run() }
        #expect(await Eventually.wait { pump.counters.published == 18 })
        #expect(session.publishedSequences == Array(3...20))
        // Rows 3...20 were in the batch the first pump had marked before its PUBLISHes (an
        // upper bound: it had only sent 3...7).
        #expect(pump.counters.replayed >= 5)
        pumping.cancel()
        await pumping.value
    }
}
