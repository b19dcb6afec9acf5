import Foundation
import GatewayCore
import Logging
import Store
import TestSupport
import Testing
@testable import CloudLink

/// The outbox pump: durable outbox → session → real mosquitto → the recording platform.
@Suite(.serialized, .timeLimit(.minutes(3))) struct OutboxPumpTests {
    static let child = "child-1"

    private func messages(_ range: ClosedRange<Int>, identity: TestIdentity, child: String = child) -> [OutboxMessage] {
        range.map { seq in
            OutboxMessage(kind: .propertyReport, topic: identity.topic("gateway/sub_devices/properties/report"),
                          payload: SequencedPayload(child: child, seq: seq).bytes, nodeId: child)
        }
    }

    private func deviceSettings(_ broker: MosquittoBroker) -> CloudSessionSettings {
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain)
        settings.reconnect = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(400))
        return settings
    }

    @Test func deliversEveryRowInOrderAndDeletesItOnPuback() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser, PlatformRecorder.user])
        try await broker.start()
        defer { broker.stop() }
        let platform = PlatformRecorder(port: broker.port)
        #expect(await Eventually.wait { platform.isConnected() })

        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        let device = RunningSession(CloudSession(settings: deviceSettings(broker)) { identity.credentials })
        let pump = OutboxPump(outbox: outbox, session: device.session, settings: .unshaped, store: store)
        let pumping = Task { await pump.run() }

        try pump.append(messages(1...300, identity: identity))
        #expect(await Eventually.wait { platform.messages.count >= 300 })
        // Appended after the first drain: the pump wakes on the append.
        try pump.append(messages(301...310, identity: identity))
        #expect(await Eventually.wait { pump.counters.acknowledged == 310 && outbox.count == 0 })
        #expect(await Eventually.wait { platform.messages.count >= 310 })
        #expect(platform.messages.sequences[Self.child] == Array(1...310))
        let counters = pump.counters
        #expect(counters.published == 310)
        #expect(counters.replayed == 0 && counters.duplicates == 0 && counters.droppedByBound == 0)
        #expect(try outbox.pending(limit: 10).isEmpty)

        pumping.cancel()
        await pumping.value
        await device.stop()
        await platform.stop()
    }

    /// The cap on the injected clock: after the full bucket's burst (100 ms of budget), every
    /// 50 ms step lets out exactly the 2 messages 40 msg/s allow, however fast the machine is;
    /// 400 queued rows never go out at link speed. (Steps shorter than the burst, so a bucket
    /// that refilled too fast would show.)
    @Test func shapingHoldsTheConfiguredMessagesPerSecond() async throws {
        let identity = TestIdentity()
        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        try outbox.append(messages(1...400, identity: identity))
        let clock = ManualClock()
        let session = ClockedSession(clock: clock)
        session.connect()
        let rate = 40
        let step = Duration.milliseconds(50)
        let perStep = Int(Double(rate) * step.seconds)
        let pump = OutboxPump(outbox: outbox, session: session,
                              settings: OutboxPumpSettings(messagesPerSecond: rate, bytesPerSecond: 1_048_576),
                              store: store, clock: clock)
        let pumping = Task { await pump.run() }

        // The pump sleeps on the clock whenever the budget is spent: count what each step lets out.
        func sentWhenAsleep() async -> Int? {
            guard await Eventually.wait(poll: .microseconds(200), { clock.sleeperCount == 1 }) else { return nil }
            return session.published.count
        }
        let burst = try #require(await sentWhenAsleep())
        #expect(burst == rate / 10, "a full bucket holds 100 ms of budget")
        var sentPerStep: [Int] = []
        var sent = burst
        for _ in 0..<60 {
            clock.advance(by: step)
            let now = try #require(await sentWhenAsleep())
            sentPerStep.append(now - sent)
            sent = now
        }
        #expect(sentPerStep == Array(repeating: perStep, count: 60), "messages let out per \(step) step")
        #expect(sent - burst == rate * 3, "3 s of clock carry 3 s of budget")
        #expect(session.published.compactMap { SequencedPayload.decode($0.payload)?.seq } == Array(1...sent))

        pumping.cancel()
        await pumping.value
    }

    /// The gateway's promise: nothing the broker has not acknowledged is lost, and order holds.
    /// A broker killed mid-stream may itself drop a few messages it had acknowledged but not yet
    /// forwarded (no persistence survives SIGKILL); those are the only gaps allowed.
    @Test func brokerOutageLosesNothingTheBrokerDidNotAcknowledgeAndKeepsOrder() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser, PlatformRecorder.user])
        try await broker.start()
        defer { broker.stop() }
        let platform = PlatformRecorder(port: broker.port)
        #expect(await Eventually.wait { platform.isConnected() })

        let directory = TemporaryDirectory()
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        // The gateway may connect only while the recorder listens, so that what the broker
        // acknowledges is also recorded (a clean-session recorder misses what comes before it).
        let gate = Locked(true)
        struct Closed: Error {}
        let device = RunningSession(CloudSession(settings: deviceSettings(broker)) {
            guard gate.withLock({ $0 }) else { throw Closed() }
            return identity.credentials
        })
        let pump = OutboxPump(outbox: outbox, session: device.session,
                              settings: OutboxPumpSettings(messagesPerSecond: 200, bytesPerSecond: 1_048_576), store: store)
        let pumping = Task { await pump.run() }

        try pump.append(messages(1...400, identity: identity))
        #expect(await Eventually.wait { pump.counters.acknowledged >= 100 })
        gate.withLock { $0 = false }
        await broker.kill()
        #expect(await Eventually.wait { !device.isConnected() })
        // PUBACKs come in order: 1...acknowledgedBeforeTheKill reached the broker.
        let acknowledgedBeforeTheKill = pump.counters.acknowledged
        // Reports keep coming while the cloud is away.
        try pump.append(messages(401...600, identity: identity))
        try await Task.sleep(for: .seconds(1))
        #expect(outbox.count >= 200)

        try await broker.start()
        #expect(await Eventually.wait { platform.isConnected() })
        gate.withLock { $0 = true }
        #expect(await Eventually.wait(timeout: .seconds(30)) { outbox.count == 0 })
        // Everything the broker had not acknowledged when it died arrives after the outage.
        #expect(await Eventually.wait {
            Set(platform.messages.sequences[Self.child] ?? []).isSuperset(of: (acknowledgedBeforeTheKill + 1)...600)
        })

        let sequence = platform.messages.sequences[Self.child] ?? []
        let lostByTheBroker = Set(1...600).subtracting(sequence).sorted()
        #expect(lostByTheBroker.allSatisfy { $0 <= acknowledgedBeforeTheKill },
                "lost without the broker's PUBACK: \(lostByTheBroker.filter { $0 > acknowledgedBeforeTheKill })")
        #expect(sequence.firstOccurrences == Array(1...600).filter { !lostByTheBroker.contains($0) })
        if !lostByTheBroker.isEmpty { print("broker outage: the killed broker lost \(lostByTheBroker) it had acknowledged") }
        let duplicatesSeen = sequence.count - Set(sequence).count
        #expect(duplicatesSeen <= pump.counters.replayed)
        #expect(pump.counters.acknowledged == 600)

        pumping.cancel()
        await pumping.value
        await device.stop()
        await platform.stop()
    }

    @Test func aSecondPumpOnTheSameDatabaseDeliversTheRest() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser, PlatformRecorder.user])
        try await broker.start()
        defer { broker.stop() }
        let platform = PlatformRecorder(port: broker.port)
        #expect(await Eventually.wait { platform.isConnected() })
        let directory = TemporaryDirectory()

        // First life: torn down mid-drain.
        do {
            let store = try StateStore(directory: directory.path)
            let outbox = try Outbox(store: store)
            try outbox.append(messages(1...500, identity: identity) + messages(1...500, identity: identity, child: "child-2"))
            let device = RunningSession(CloudSession(settings: deviceSettings(broker)) { identity.credentials })
            let pump = OutboxPump(outbox: outbox, session: device.session,
                                  settings: OutboxPumpSettings(messagesPerSecond: 400, bytesPerSecond: 1_048_576), store: store)
            let pumping = Task { await pump.run() }
            #expect(await Eventually.wait { pump.counters.acknowledged >= 150 })
            await device.stop()
            pumping.cancel()
            await pumping.value
            #expect(outbox.count > 0 && outbox.count < 1000)
        }

        // Second life: a new store, outbox, session and pump on the same files.
        let store = try StateStore(directory: directory.path)
        let outbox = try Outbox(store: store)
        let remaining = outbox.count
        #expect(remaining > 0)
        let device = RunningSession(CloudSession(settings: deviceSettings(broker)) { identity.credentials })
        let pump = OutboxPump(outbox: outbox, session: device.session, settings: .unshaped, store: store)
        let pumping = Task { await pump.run() }
        #expect(await Eventually.wait(timeout: .seconds(30)) { outbox.count == 0 })
        #expect(await Eventually.wait { platform.messages.sequences["child-2"]?.firstOccurrences.count == 500 })

        let sequences = platform.messages.sequences
        var duplicatesSeen = 0
        for child in [Self.child, "child-2"] {
            let sequence = sequences[child] ?? []
            #expect(sequence.firstOccurrences == Array(1...500), "\(child)")
            duplicatesSeen += sequence.count - Set(sequence).count
        }
        #expect(pump.counters.acknowledged == remaining)
        // Rows the first pump had sent without a PUBACK are counted as replays by the second.
        #expect(duplicatesSeen <= pump.counters.replayed)

        pumping.cancel()
        await pumping.value
        await device.stop()
        await platform.stop()
    }
}
