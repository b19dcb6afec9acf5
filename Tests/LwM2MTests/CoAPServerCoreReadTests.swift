import Foundation
import GatewayCore
@testable import LwM2M
import Testing

/// The core's one-shot confirmable GET (`Downlink.read`) with a manual clock: its answer, a
/// refusal, the deadline, libcoap's NACK, and a device not reachable — each as `.resourceRead`.
@Suite struct CoAPServerCoreReadTests {
    typealias Core = CoAPServerCore<ManualClock, Int>
    typealias Table = RegistrationTable<ManualClock.Instant>

    let clock = ManualClock()
    let node = "861234567890123"
    let meter = NBIoTDevice(nodeId: "861234567890123", productId: "meter", psk: [1, 2, 3, 4])
    let registrations = Locked(Table())

    func core() -> Core { Core(configuration: .init(settings: LwM2MServerSettings(), shard: 0)) }

    func advance(to offset: Duration) {
        clock.advance(by: clock.now.duration(to: OffsetInstant(offset: offset)))
    }

    /// A device registered on an established DTLS session, its Observe answered.
    func registered(_ core: inout Core) throws -> UInt64 {
        let peer = core.sessionOpened(1)
        core.dtlsSessionStarted(peer: peer, address: "10.0.0.5:4000")
        core.pskIdentityAccepted(peer: peer)
        core.sessionEstablished(peer: peer)
        let request = try RegistrationRequest.parse(query: "ep=\(node)&lt=86400&b=U", body: Array("</4/0>,</19/0>,</19/1>".utf8))
        _ = core.registerReceived(request, device: meter, transport: .dtls(identity: node), peer: peer, address: "10.0.0.5:4000",
                                  registrations: registrations, at: clock.now)
        for case .sendObserve(let nodeId, _, let observePeer, let registeredAt) in core.takeObservesAfterReply(registrations: registrations) {
            core.observeSent(nodeId: nodeId, peer: observePeer, token: 0xA1, registeredAt: registeredAt, at: clock.now)
        }
        _ = respond(&core, peer: peer, token: 0xA1)
        return peer
    }

    func respond(_ core: inout Core, peer: UInt64, token: UInt64, code: UInt8 = 0x45, body: [UInt8] = []) -> [Core.Action] {
        var actions: [Core.Action] = []
        _ = core.responseReceived(peer: peer, token: token, code: code, body: { body }, registrations: registrations,
                                  at: clock.now, wallTime: GatewayClock.testEpoch, into: &actions)
        return actions
    }

    @Test func aReadGoesToItsPathAndItsContentComesBack() throws {
        var core = core()
        let peer = try registered(&core)
        let read = Downlink(nodeId: node, payload: [], tag: 41, path: "/4/0/2", read: true)
        #expect(core.downlinkRequested(read, forwarded: false, registrations: registrations)
                == [.sendDownlink(read, path: "/4/0/2", peer: peer)])
        core.downlinkSent(read, path: "/4/0/2", peer: peer, token: 0xC1, at: clock.now)
        advance(to: .seconds(2))
        #expect(respond(&core, peer: peer, token: 0xC1, code: 0x45, body: Array("-98".utf8))
                == [.emit(.resourceRead(tag: 41, nodeId: node, path: "/4/0/2", result: .content(code: 0x45, payload: Array("-98".utf8))))])
        // Answered: nothing at the deadline, and a repeated answer belongs to nothing.
        advance(to: .seconds(600))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        #expect(respond(&core, peer: peer, token: 0xC1).isEmpty)
        #expect(core.counters.unknownResponses == 1)
    }

    @Test func aRefusedReadIsAFailureWithItsCode() throws {
        var core = core()
        let peer = try registered(&core)
        let read = Downlink(nodeId: node, payload: [], tag: 42, path: "/4/0/11", read: true)
        core.downlinkSent(read, path: "/4/0/11", peer: peer, token: 0xC2, at: clock.now)
        #expect(respond(&core, peer: peer, token: 0xC2, code: 0x84) // 4.04
                == [.emit(.resourceRead(tag: 42, nodeId: node, path: "/4/0/11", result: .failed(.refused(code: 0x84))))])
    }

    /// The downlink timers: given up once, at the deadline (226 s) or at libcoap's NACK.
    @Test func anUnansweredReadIsGivenUpOnce() throws {
        var core = core()
        let peer = try registered(&core)
        let read = Downlink(nodeId: node, payload: [], tag: 43, path: "/4/0/8", read: true)
        core.downlinkSent(read, path: "/4/0/8", peer: peer, token: 0xC3, at: clock.now)
        advance(to: .milliseconds(225_999))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
        advance(to: .seconds(226))
        #expect(core.tick(at: clock.now, registrations: registrations)
                == [.emit(.resourceRead(tag: 43, nodeId: node, path: "/4/0/8", result: .failed(.timedOut)))])
        #expect(core.requestFailed(peer: peer, token: 0xC3, result: .timedOut).isEmpty)

        let second = Downlink(nodeId: node, payload: [], tag: 44, path: "/4/0/8", read: true)
        core.downlinkSent(second, path: "/4/0/8", peer: peer, token: 0xC4, at: clock.now)
        #expect(core.requestFailed(peer: peer, token: 0xC4, result: .reset)
                == [.emit(.resourceRead(tag: 44, nodeId: node, path: "/4/0/8", result: .failed(.reset)))])
        advance(to: .seconds(600))
        #expect(core.tick(at: clock.now, registrations: registrations).isEmpty)
    }

    @Test func aReadForADeviceWithoutSessionIsNotReachable() {
        var core = core()
        let read = Downlink(nodeId: node, payload: [], tag: 45, path: "/4/0/2", read: true)
        #expect(core.downlinkRequested(read, forwarded: false, registrations: registrations)
                == [.emit(.resourceRead(tag: 45, nodeId: node, path: "/4/0/2", result: .failed(.notReachable)))])
        // A write keeps its own event.
        let write = Downlink(nodeId: node, payload: [1], tag: 46)
        #expect(core.downlinkRequested(write, forwarded: false, registrations: registrations)
                == [.emit(.downlinkResult(tag: 46, nodeId: node, result: .notReachable))])
    }
}
