import Foundation
import GatewayCore
@testable import LwM2M
import Testing

/// The NB-IoT server's core driven to the millisecond with a manual clock: no sockets, no libcoap.
@Suite struct CoAPServerCoreTests {
    typealias Core = CoAPServerCore<ManualClock, Int>
    typealias Table = RegistrationTable<ManualClock.Instant>

    let clock = ManualClock()
    let settings = LwM2MServerSettings()
    let node = "861234567890123"
    let meter = NBIoTDevice(nodeId: "861234567890123", productId: "meter", psk: [1, 2, 3, 4])
    let identity = Transport.dtls(identity: "861234567890123")
    let registrations = Locked(Table())

    func core(shard: Int = 0) -> Core { Core(configuration: .init(settings: settings, shard: shard)) }

    func request(_ query: String = "ep=861234567890123&lt=300&b=U") throws -> RegistrationRequest {
        try RegistrationRequest.parse(query: query, body: Array("</19/0>,</19/1>".utf8))
    }

    func advance(to offset: Duration) {
        clock.advance(by: clock.now.duration(to: OffsetInstant(offset: offset)))
    }

    /// A device registered on a new DTLS session of `core`, its Observe sent with `token`.
    func registered(_ core: inout Core, session: Int, address: String = "10.0.0.5:4000", token: UInt64,
                    query: String = "ep=861234567890123&lt=300&b=U") throws -> UInt64 {
        let peer = core.sessionOpened(session)
        core.dtlsSessionStarted(peer: peer, address: address)
        core.pskIdentityAccepted(peer: peer)
        core.sessionEstablished(peer: peer)
        let now = clock.now
        _ = core.registerReceived(try request(query), device: meter, transport: identity, peer: peer, address: address,
                                  registrations: registrations, at: now)
        for case .sendObserve(let nodeId, _, let observePeer, let registeredAt) in core.takeObservesAfterReply(registrations: registrations) {
            core.observeSent(nodeId: nodeId, peer: observePeer, token: token, registeredAt: registeredAt, at: now)
        }
        return peer
    }

    func respond(_ core: inout Core, peer: UInt64, token: UInt64, code: UInt8 = 0x45, body: [UInt8] = []) -> (Bool, [Core.Action]) {
        var actions: [Core.Action] = []
        let known = core.responseReceived(peer: peer, token: token, code: code, body: { body }, registrations: registrations,
                                          at: clock.now, wallTime: GatewayClock.testEpoch, into: &actions)
        return (known, actions)
    }

    // MARK: - Register → Observe → deadline

    @Test func theObserveLeavesWithTheReplyAndIsGivenUpAtItsDeadline() throws {
        var core = core()
        let peer = core.sessionOpened(1)
        let actions = core.registerReceived(try request(), device: meter, transport: identity, peer: peer, address: "10.0.0.5:4000",
                                            registrations: registrations, at: clock.now)
        #expect(actions.first == .reply(.created(registrationId: "1")))
        #expect(actions.contains { if case .emit(.registered(let info)) = $0 { info.nodeId == node } else { false } })
        // Queued behind the reply: the loop does not sleep before it is sent.
        #expect(core.hasWorkAfterReply)
        let observes = core.takeObservesAfterReply(registrations: registrations)
        #expect(observes == [.sendObserve(nodeId: node, path: "/19/0/0", peer: peer, registeredAt: .init(offset: .zero))])
        #expect(!core.hasWorkAfterReply)
        core.observeSent(nodeId: node, peer: peer, token: 0xA1, registeredAt: .init(offset: .zero), at: clock.now)
        #expect(core.counters.observesSent == 1)

        // Even at the longest first wait, a lost GET is repeated well inside the modules' 4 s (513) window.
        let timers = core.configuration.observeTimers
        #expect(try #require(timers.retransmissions(initial: timers.maxInitialTimeout).first) == .milliseconds(1500))
        // libcoap gives up by 22.5 s at the latest; the core's deadline is a second after.
        #expect(core.nextDeadline(registrations: registrations) == OffsetInstant(offset: .milliseconds(23_500)))
        advance(to: .milliseconds(23_499))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .milliseconds(23_500))
        #expect(core.tick(at: clock.now, registrations: registrations) == [.emit(.observeFailed(nodeId: node, reason: "timedOut"))])
        #expect(core.observeToken[node] == nil)
        // An answer after that is for nothing we await (libcoap answers it with RST).
        let (known, late) = respond(&core, peer: peer, token: 0xA1)
        #expect(!known && late.isEmpty)
        #expect(core.counters.unknownResponses == 1)
        // The registration itself stays: only its observation failed.
        #expect(registrations.withLock { $0.registration(nodeId: node) } != nil)
    }

    @Test func anAnsweredObserveHasNoDeadlineAndReportsItsLatency() throws {
        var core = core()
        let peer = try registered(&core, session: 1, token: 0xA1)
        advance(to: .milliseconds(800))
        let (known, actions) = respond(&core, peer: peer, token: 0xA1)
        #expect(known)
        #expect(actions == [.emit(.observing(nodeId: node, latency: .milliseconds(800)))])
        advance(to: .seconds(60))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        // A refused GET ends the observation with the device's code.
        let (_, refused) = respond(&core, peer: peer, token: 0xA1, code: 0x84)
        #expect(refused == [.emit(.observeFailed(nodeId: node, reason: "device answered 4.04"))])
    }

    // MARK: - Confirmable retransmission and timeout

    @Test func confirmableTimersAreThePlatformsAndTheObservesShortOnes() {
        let configuration = Core.Configuration(settings: settings, shard: 0)
        let downlink = configuration.downlinkTimers
        // The platform's back-off (10 s, factor 1.5, 3 retransmissions), as libcoap applies it.
        #expect(downlink.retransmissions(initial: .seconds(10)) == [.seconds(10), .seconds(30), .seconds(70)])
        #expect(downlink.giveUp(initial: .seconds(10)) == .seconds(150))
        #expect(downlink.maxInitialTimeout == .seconds(15))
        #expect(downlink.retransmissions(initial: downlink.maxInitialTimeout) == [.seconds(15), .seconds(45), .seconds(105)])
        #expect(downlink.maxTransmitWait == .seconds(225))
        let observe = configuration.observeTimers
        #expect(observe.retransmissions(initial: .seconds(1)) == [.seconds(1), .seconds(3), .seconds(7)])
        #expect(observe.retransmissions(initial: observe.maxInitialTimeout)
                == [.milliseconds(1500), .milliseconds(4500), .milliseconds(10_500)])
        #expect(observe.maxTransmitWait == .milliseconds(22_500))
    }

    @Test func aDownlinkUnansweredIsGivenUpOnceAtLibcoapsNackOrAtTheDeadline() throws {
        var core = core()
        let peer = try registered(&core, session: 1, token: 0xA1, query: "ep=861234567890123&lt=86400&b=U")
        _ = respond(&core, peer: peer, token: 0xA1)
        let write = Downlink(nodeId: node, payload: [1, 2], tag: 9)
        #expect(core.downlinkRequested(write, forwarded: false, registrations: registrations)
                == [.sendDownlink(write, path: "/19/1/0", peer: peer)])
        core.downlinkSent(write, peer: peer, token: 0xB2, at: clock.now)
        #expect(core.counters.downlinksSent == 1)
        #expect(core.nextDeadline(registrations: registrations) == OffsetInstant(offset: .seconds(226)))
        advance(to: .milliseconds(225_999))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .seconds(226))
        #expect(core.tick(at: clock.now, registrations: registrations)
                == [.emit(.downlinkResult(tag: 9, nodeId: node, result: .timedOut))])
        #expect(core.counters.downlinksFailed == 1)

        // libcoap's NACK comes first (150 s with a 10 s first wait): one result, none at the deadline.
        let second = Downlink(nodeId: node, payload: [3], tag: 10)
        core.downlinkSent(second, peer: peer, token: 0xB3, at: clock.now)
        advance(to: .seconds(226 + 150))
        #expect(core.requestFailed(peer: peer, token: 0xB3, result: .timedOut)
                == [.emit(.downlinkResult(tag: 10, nodeId: node, result: .timedOut))])
        advance(to: .seconds(226 + 226))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        #expect(core.requestFailed(peer: peer, token: 0xB3, result: .timedOut).isEmpty)
        #expect(core.counters.downlinksFailed == 2)
    }

    @Test func aDownlinkAnsweredInTimeHasNoTimeout() throws {
        var core = core()
        let peer = try registered(&core, session: 1, token: 0xA1)
        let write = Downlink(nodeId: node, payload: [1], tag: 3)
        core.downlinkSent(write, peer: peer, token: 0xB2, at: clock.now)
        advance(to: .seconds(11))
        let (known, actions) = respond(&core, peer: peer, token: 0xB2, code: 0x44)
        #expect(known && actions == [.emit(.downlinkResult(tag: 3, nodeId: node, result: .acknowledged(code: 0x44)))])
        advance(to: .seconds(300))
        #expect(!core.tick(at: clock.now, registrations: registrations).contains { if case .emit(.downlinkResult) = $0 { true } else { false } })
    }

    // MARK: - Lifetime

    @Test func aRegistrationEndsAtTheInstantItsLifetimePasses() throws {
        var first = core(shard: 0)
        var second = core(shard: 1)
        let peer = try registered(&first, session: 1, token: 0xA1, query: "ep=861234567890123&lt=60&b=U")
        _ = respond(&first, peer: peer, token: 0xA1)
        #expect(first.nextDeadline(registrations: registrations) == OffsetInstant(offset: .seconds(60)))
        // Only the first thread ends registrations (for every thread): the others do not wake for it.
        #expect(second.nextDeadline(registrations: registrations) == nil)
        advance(to: .milliseconds(59_999))
        #expect(first.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .seconds(60))
        #expect(second.tick(at: clock.now, registrations: registrations).isEmpty)
        let actions = first.tick(at: clock.now, registrations: registrations)
        #expect(actions.contains(.emit(.offline(nodeId: node, reason: .lifetimeExpired))))
        #expect(first.counters.expirations == 1)
        #expect(first.observeToken[node] == nil)
        #expect(registrations.withLock { $0.count } == 0)
        // A notification on the ended observation is stale.
        #expect(!respond(&first, peer: peer, token: 0xA1, body: [1]).0)
    }

    @Test func anUpdatePushesTheLifetimesEndBack() throws {
        var core = core()
        let peer = try registered(&core, session: 1, token: 0xA1, query: "ep=861234567890123&lt=60&b=U")
        _ = respond(&core, peer: peer, token: 0xA1)
        advance(to: .seconds(50))
        let update = try RegistrationRequest.parse(query: "", body: [])
        #expect(core.updateReceived(registrationId: "1", update, transport: identity, peer: peer, address: "10.0.0.5:4000",
                                    registrations: registrations, at: clock.now).contains(.emit(.updated(nodeId: node))))
        advance(to: .seconds(60))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .milliseconds(109_999))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .seconds(110))
        #expect(core.tick(at: clock.now, registrations: registrations).contains(.emit(.offline(nodeId: node, reason: .lifetimeExpired))))
    }

    // MARK: - Same-address rules

    @Test func aClientHelloFromAnAddressWithAnEstablishedSessionDropsIt() throws {
        var core = core()
        let address = "10.0.0.5:4000"
        let old = try registered(&core, session: 1, address: address, token: 0xA1)
        // Any ClientHello (with a cookie too) replaces an established session.
        let actions = core.clientHelloReceived(from: address, startsHandshake: false, phase: { _ in .established })
        #expect(actions.last == .dropSession(1, peer: old))
        #expect(core.counters.clientHellos == 1)
        #expect(core.counters.sessionsReplaced == 1)
        #expect(core.session(peer: old) == nil)
        #expect(core.observeToken[node] == nil)
        // The old session's notification finds nothing.
        #expect(!respond(&core, peer: old, token: 0xA1, body: [1]).0)
        // The address is free: the next ClientHello (the handshake going on) drops nothing.
        #expect(core.clientHelloReceived(from: address, startsHandshake: false, phase: { _ in .established }).isEmpty)
        // libcoap's deletion of the dropped session later counts no failed handshake.
        #expect(core.sessionEnded(peer: old, address: "127.0.0.1:5684", established: true).isEmpty)
        #expect(core.counters.handshakesFailed == 0)
        // Another address is not touched.
        let other = core.sessionOpened(2)
        core.dtlsSessionStarted(peer: other, address: "10.0.0.6:4000")
        #expect(core.clientHelloReceived(from: "10.0.0.7:4000", startsHandshake: true, phase: { _ in .established }).isEmpty)
        #expect(core.session(peer: other) == 2)
    }

    @Test func anUnfinishedHandshakeGoesOnlyForAClientHelloThatStartsOver() {
        var core = core()
        let address = "10.0.0.5:4000"
        let peer = core.sessionOpened(1)
        core.dtlsSessionStarted(peer: peer, address: address)
        core.pskIdentityAccepted(peer: peer)
        // The second ClientHello of the same handshake (it carries the cookie) goes on.
        #expect(core.clientHelloReceived(from: address, startsHandshake: false, phase: { _ in .handshake }).isEmpty)
        #expect(core.session(peer: peer) == 1)
        // Closed or closing sessions are left to libcoap.
        #expect(core.clientHelloReceived(from: address, startsHandshake: true, phase: { _ in .other }).isEmpty)
        // One without a cookie starts over: the old handshake failed and goes now.
        let actions = core.clientHelloReceived(from: address, startsHandshake: true, phase: { _ in .handshake })
        #expect(actions.last == .dropSession(1, peer: peer))
        #expect(core.counters.handshakesRestarted == 1)
        #expect(core.counters.handshakesFailed == 1)
        #expect(core.handshaking.isEmpty)
    }

    @Test func aHandshakeThatNeverFinishesIsCountedWhenLibcoapDeletesItsSession() {
        var core = core()
        let peer = core.sessionOpened(1)
        core.pskIdentityAccepted(peer: peer)
        let actions = core.sessionEnded(peer: peer, address: "10.0.0.5:4000", established: false)
        #expect(actions.count == 1)
        #expect(core.counters.handshakesFailed == 1)
        #expect(core.counters.handshakesCompleted == 0)
        #expect(core.sessions.isEmpty)
    }

    // MARK: - Notifications on a session the registration left

    @Test func aNotificationOnTheSessionARegistrationLeftIsRefused() throws {
        var core = core()
        let old = try registered(&core, session: 1, address: "10.0.0.5:4000", token: 0xA1)
        _ = respond(&core, peer: old, token: 0xA1)
        let (known, uplink) = respond(&core, peer: old, token: 0xA1, body: [7])
        #expect(known && uplink == [.emit(.uplink(nodeId: node, productId: "meter", payload: [7], receivedAt: GatewayClock.testEpoch))])
        // The device registers again from a new address (NAT rebinding) on a new session.
        advance(to: .seconds(40))
        let new = try registered(&core, session: 2, address: "10.0.0.9:5000", token: 0xC3)
        #expect(core.observeToken[node] == PendingRequests<Core.Pending>.Key(peer: new, token: 0xC3))
        // The old session's notification is refused (libcoap's RST cancels it) and reported as nothing.
        let (stale, nothing) = respond(&core, peer: old, token: 0xA1, body: [8])
        #expect(!stale && nothing.isEmpty)
        #expect(core.counters.notifications == 1)
        // The new session's is the device's.
        _ = respond(&core, peer: new, token: 0xC3)
        #expect(respond(&core, peer: new, token: 0xC3, body: [9]).1.contains {
            if case .emit(.uplink(_, _, [9], _)) = $0 { true } else { false }
        })
    }

    @Test func aNotificationOnAnotherThreadsOldSessionIsRefused() throws {
        var first = core(shard: 0)
        var second = core(shard: 1)
        let old = try registered(&first, session: 1, address: "10.0.0.5:4000", token: 0xA1)
        _ = respond(&first, peer: old, token: 0xA1)
        // The device updates from a new address that the kernel hands to the other thread.
        let peer = second.sessionOpened(2)
        let update = try RegistrationRequest.parse(query: "", body: [])
        let actions = second.updateReceived(registrationId: "1", update, transport: identity, peer: peer, address: "10.0.0.9:5000",
                                            registrations: registrations, at: clock.now)
        #expect(actions.contains(.emit(.updated(nodeId: node))))
        #expect(second.takeObservesAfterReply(registrations: registrations).count == 1)
        // The first thread still holds the old observation; a notification on it is stale.
        #expect(first.observeToken[node] != nil)
        var out: [Core.Action] = []
        #expect(!first.responseReceived(peer: old, token: 0xA1, code: 0x45, body: { [1] }, registrations: registrations,
                                        at: clock.now, wallTime: GatewayClock.testEpoch, into: &out))
        #expect(out.isEmpty)
        #expect(first.observeToken[node] == nil)
        #expect(first.pending[PendingRequests<Core.Pending>.Key(peer: old, token: 0xA1)] == nil)
        #expect(first.counters.unknownResponses == 1)
        // A downlink routed to the first thread goes on to the second.
        let write = Downlink(nodeId: node, payload: [1], tag: 1)
        #expect(first.downlinkRequested(write, forwarded: false, registrations: registrations) == [.forward(write)])
        #expect(second.downlinkRequested(write, forwarded: true, registrations: registrations)
                == [.sendDownlink(write, path: "/19/1/0", peer: peer)])
    }
}
