import Foundation
import GatewayCore
import Logging
import TestSupport
import Testing
@testable import CloudLink

/// The session against a real mosquitto broker on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CloudSessionTests {
    @Test func settingsCarryThePlatformDefaults() {
        let settings = CloudSessionSettings(host: "iot.example")
        #expect(settings.port == 8883)
        #expect(settings.transport == .tls(caFile: nil))
        #expect(settings.keepalive == 120)
        #expect(CloudSessionSettings(host: "h", transport: .plain).port == 1883)
        #expect(CloudSessionSettings.keepaliveRange == 30...1200)
        #expect(settings.validate().isEmpty)
        #expect(CloudSessionSettings(host: "h", keepalive: 29).validate().count == 1)
        #expect(CloudSessionSettings(host: "h", keepalive: 1201).validate().count == 1)
        #expect(CloudSessionSettings(host: "h", keepalive: 1200).validate().isEmpty)
    }

    @Test func connectsWithPlatformCredentialsAndReceivesOnItsSubscriptions() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser, PlatformRecorder.user])
        try await broker.start()
        defer { broker.stop() }

        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain,
                                            subscriptions: [identity.topic("commands/#"), identity.topic("events/down")])
        let device = RunningSession(CloudSession(settings: settings) { identity.credentials })
        var states = device.session.stateChanges().makeAsyncIterator()
        #expect(await states.next() == .disconnected)
        #expect(await states.next() == .connected(generation: 1))

        let platform = PlatformRecorder(port: broker.port)
        #expect(await Eventually.wait { platform.isConnected() })
        _ = try platform.session.publish(topic: identity.topic("commands/request_id=42"), payload: Array("{\"command_name\":\"on\"}".utf8))
        _ = try platform.session.publish(topic: identity.topic("events/down"), payload: Array("{}".utf8))
        // Not subscribed: must not arrive.
        _ = try platform.session.publish(topic: identity.topic("messages/down"), payload: Array("x".utf8))

        let incoming = MessageCollector(device.session.incoming)
        let first = await incoming.message(0)
        let second = await incoming.message(1)
        #expect(first == CloudMessage(topic: identity.topic("commands/request_id=42"), payload: Array("{\"command_name\":\"on\"}".utf8)))
        #expect(second?.topic == identity.topic("events/down"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(device.session.statistics.incoming == 2)

        // Uplink with QoS 1: the PUBACK comes back with the receipt publish returned.
        var acks = device.session.acknowledgements().makeAsyncIterator()
        let receipt = try device.session.publish(topic: identity.topic("properties/report"), payload: Array("{\"services\":[]}".utf8))
        #expect(await acks.next() == receipt)
        #expect(await Eventually.wait { platform.messages.contains { $0.topic == identity.topic("properties/report") } })

        await device.stop()
        await platform.stop()
        #expect(device.session.state == .disconnected)
        #expect(device.session.statistics.connects == 1)
    }

    @Test func connectsOverTLSWithTheBrokersCA() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser], tls: true)
        try await broker.start()
        defer { broker.stop() }
        let caFile = try #require(broker.caFile)
        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .tls(caFile: caFile))
        let device = RunningSession(CloudSession(settings: settings) { identity.credentials })
        #expect(await Eventually.wait { device.isConnected() })
        var acks = device.session.acknowledgements().makeAsyncIterator()
        let receipt = try device.session.publish(topic: identity.topic("messages/up"), payload: Array("hello".utf8))
        #expect(await acks.next() == receipt)
        await device.stop()
    }

    @Test func refusesABrokerItsCADoesNotVouchFor() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser], tls: true)
        try await broker.start()
        defer { broker.stop() }
        // Another broker's CA: the chain does not verify, so no connection, ever.
        let other = try await MosquittoBroker(users: [], tls: true)
        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .tls(caFile: other.caFile))
        let clock = ManualClock()
        let device = RunningSession(CloudSession(settings: settings, clock: clock) { identity.credentials })
        #expect(await Eventually.wait { clock.sleeperCount == 1 })
        #expect(device.session.statistics.connectAttempts == 1)
        #expect(device.session.statistics.connects == 0)
        #expect(!device.isConnected())
        await device.stop()
    }

    @Test func tlsWithTheSystemTrustStoreNeverFallsBackToPlain() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser])
        try await broker.start()
        defer { broker.stop() }
        // The default transport is TLS against the system store; a plain broker must not do.
        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port))
        #expect(settings.transport == .tls(caFile: nil))
        let clock = ManualClock()
        let device = RunningSession(CloudSession(settings: settings, clock: clock) { identity.credentials })
        #expect(await Eventually.wait { clock.sleeperCount == 1 })
        #expect(device.session.statistics.connectAttempts == 1)
        #expect(device.session.statistics.connects == 0)
        await device.stop()
    }

    @Test func wrongPasswordIsRefusedWithoutHotLooping() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser])
        try await broker.start()
        defer { broker.stop() }
        let wrong = TestIdentity(deviceId: identity.deviceId, secret: "not-the-secret", hour: identity.hour)
        let attempts = Locked(0)
        let clock = ManualClock()
        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain)
        let device = RunningSession(CloudSession(settings: settings, clock: clock) {
            attempts.withLock { $0 += 1 }
            return wrong.credentials
        })
        #expect(await Eventually.wait { device.session.statistics.refusals == 1 && clock.sleeperCount == 1 })
        // Real time passes; the session waits on its clock and does not try again.
        try await Task.sleep(for: .seconds(1))
        #expect(device.session.statistics.connectAttempts == 1)
        // Still waiting after 3 minutes of its clock: the refused pause is 4-5 minutes.
        clock.advance(by: .seconds(180))
        try await Task.sleep(for: .milliseconds(300))
        #expect(device.session.statistics.connectAttempts == 1)
        // After 5 minutes it tries again, with freshly computed credentials.
        clock.advance(by: .seconds(121))
        #expect(await Eventually.wait { device.session.statistics.refusals == 2 })
        #expect(attempts.withLock { $0 } == 2)
        #expect(device.session.statistics.connects == 0)
        await device.stop()
    }

    @Test func unreachableBrokerBacksOffOnItsClock() async throws {
        let port = FreePort.next()
        let clock = ManualClock()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(port), transport: .plain)
        settings.connectTimeout = .seconds(5)
        let identity = TestIdentity()
        let device = RunningSession(CloudSession(settings: settings, clock: clock) { identity.credentials })
        #expect(await Eventually.wait { clock.sleeperCount == 1 })
        try await Task.sleep(for: .milliseconds(500))
        #expect(device.session.statistics.connectAttempts == 1)
        clock.advance(by: .seconds(1))
        #expect(await Eventually.wait { device.session.statistics.connectAttempts == 2 && clock.sleeperCount == 1 })
        // The second wait is 1-2 s: one more second may or may not be enough, two always are.
        clock.advance(by: .seconds(2))
        #expect(await Eventually.wait { device.session.statistics.connectAttempts == 3 })
        await device.stop()
    }

    @Test func reconnectsAfterTheBrokerComesBackAndReportsANewGeneration() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser])
        try await broker.start()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain,
                                            subscriptions: [identity.topic("commands/#")])
        settings.reconnect = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(500))
        let device = RunningSession(CloudSession(settings: settings) { identity.credentials })
        var states = device.session.stateChanges().makeAsyncIterator()
        #expect(await states.next() == .disconnected)
        #expect(await states.next() == .connected(generation: 1))
        await broker.stopAndWait()
        #expect(await states.next() == .disconnected)
        #expect(throws: CloudPublishError.notConnected) {
            try device.session.publish(topic: identity.topic("messages/up"), payload: [1])
        }
        try await broker.start()
        let next = await states.next()
        if case .connected(let generation) = next { #expect(generation > 1) } else { Issue.record("got \(String(describing: next))") }
        await device.stop()
        broker.stop()
    }
}
