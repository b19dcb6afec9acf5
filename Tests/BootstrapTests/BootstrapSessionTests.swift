import Bootstrap
import GatewayCore
import LwM2MContent
import Testing

/// The bootstrap server's side of one device's sequence, to the millisecond on constructed instants.
struct BootstrapSessionTests {
    typealias Session = BootstrapSession<ManualClock>
    static let t0 = OffsetInstant(offset: .seconds(100))
    static func at(_ seconds: Double) -> OffsetInstant { t0.advanced(by: .seconds(seconds)) }
    static let plan = BootstrapPlan(serverURI: "coaps://192.0.2.10:5684", pskIdentity: Array("861234567890001".utf8),
                                    psk: Array(repeating: 0x5A, count: 16), lifetime: 86_400, binding: "UQ")

    static func sent(_ actions: [Session.Action]) -> [BootstrapRequest] {
        actions.compactMap { if case .send(let request) = $0 { request } else { nil } }
    }
    static func paths(_ actions: [Session.Action]) -> [String] { sent(actions).map { "\($0.method.rawValue) \($0.path)" } }

    @Test func aDeviceThatDiscoversKeepsItsBootstrapAccountAndGetsTheNewOneBesideIt() throws {
        var session = Session(endpoint: "861234567890001", plan: Self.plan)
        #expect(Self.paths(session.start(now: Self.t0)) == ["GET /"])
        #expect(Self.sent(session.start(now: Self.t0)).isEmpty, "started once")
        // The bootstrap account at /0/0 (no ssid), an old server account at /0/1 and /1/0.
        let discover = #"lwm2m="1.1",</0/0>,</0/1>;ssid=101;uri="coaps://old.example:5684",</1/0>;ssid=101,</3/0>"#
        #expect(Self.paths(session.received(CoAPCode(2, 5), payload: Array(discover.utf8), now: Self.at(0.1))) == ["DELETE /0/1"])
        #expect(Self.paths(session.received(.deleted, payload: [], now: Self.at(0.2))) == ["DELETE /1/0"])
        let security = Self.sent(session.received(.deleted, payload: [], now: Self.at(0.3)))
        #expect(security.map(\.path) == ["/0/1"], "the lowest id the bootstrap account does not use")
        #expect(security.first?.method == .put && security.first?.contentFormat == BootstrapRequest.tlv)
        let written = try #require(try TLV.decode(security.first?.payload ?? []).first)
        #expect(written.id == 1)
        #expect(written.child(0)?.string == "coaps://192.0.2.10:5684")
        #expect(written.child(1)?.boolean == false)
        #expect(written.child(2)?.integer == 0, "security mode PSK")
        #expect(written.child(3)?.value == Array("861234567890001".utf8))
        #expect(written.child(5)?.value == Array(repeating: 0x5A, count: 16))
        #expect(written.child(10)?.integer == Int64(BootstrapPlan.defaultShortServerId))

        let server = Self.sent(session.received(.changed, payload: [], now: Self.at(0.4)))
        #expect(server.map(\.path) == ["/1/0"])
        let serverInstance = try #require(try TLV.decode(server.first?.payload ?? []).first)
        #expect(serverInstance.child(0)?.integer == Int64(BootstrapPlan.defaultShortServerId))
        #expect(serverInstance.child(1)?.integer == 86_400)
        #expect(serverInstance.child(6)?.boolean == true)
        #expect(serverInstance.child(7)?.string == "UQ")

        #expect(Self.paths(session.received(.changed, payload: [], now: Self.at(0.5))) == ["POST /bs"])
        #expect(session.received(.changed, payload: [], now: Self.at(0.6)) == [.finished(securityInstance: 1, serverInstance: 0)])
        #expect(session.isOver && session.deadline == nil)
        #expect(session.received(.changed, payload: [], now: Self.at(0.7)).isEmpty)
    }

    @Test func anLwM2M10ClientWithoutDiscoverGetsDeletesOfBothObjects() {
        var session = Session(endpoint: "e", plan: Self.plan)
        _ = session.start(now: Self.t0)
        #expect(Self.paths(session.received(CoAPCode(4, 5), payload: [], now: Self.at(0.1))) == ["DELETE /0"])
        #expect(Self.paths(session.received(.deleted, payload: [], now: Self.at(0.2))) == ["DELETE /1"])
        // Nothing to delete is fine.
        #expect(Self.paths(session.received(CoAPCode(4, 4), payload: [], now: Self.at(0.3))) == ["PUT /0/\(Session.fallbackSecurityInstance)"])
    }

    @Test func withoutDiscoverTheSequenceStartsWithTheDeletes() {
        var session = Session(endpoint: "e", plan: Self.plan, discover: false)
        #expect(Self.paths(session.start(now: Self.t0)) == ["DELETE /0"])
    }

    @Test func eachRequestTimesOutAfterTheExchangeLifetime() {
        var session = Session(endpoint: "e", plan: Self.plan)
        _ = session.start(now: Self.t0)
        #expect(session.deadline == Self.at(247))
        #expect(session.tick(now: Self.at(246.999)).isEmpty)
        #expect(session.tick(now: Self.at(247)) == [.failed(.timeout, "no answer to Bootstrap-Discover / within 247.0 seconds")])
        #expect(session.isOver)
        // Each request gets its own lifetime.
        var later = Session(endpoint: "e", plan: Self.plan, requestTimeout: .seconds(10))
        _ = later.start(now: Self.t0)
        _ = later.received(CoAPCode(4, 4), payload: [], now: Self.at(9))
        #expect(later.deadline == Self.at(19))
    }

    @Test func refusalsEndTheSessionWithTheirCause() {
        var write = Session(endpoint: "e", plan: Self.plan, discover: false)
        _ = write.start(now: Self.t0)
        _ = write.received(.deleted, payload: [], now: Self.t0)
        _ = write.received(.deleted, payload: [], now: Self.t0)
        #expect(write.received(CoAPCode(4, 0), payload: [], now: Self.t0) == [.failed(.requestFailed, "Write /0/1 answered 4.00")])

        var finish = Session(endpoint: "e", plan: Self.plan, discover: false)
        _ = finish.start(now: Self.t0)
        for _ in 0..<4 { _ = finish.received(.changed, payload: [], now: Self.t0) }
        #expect(finish.received(CoAPCode(5, 0), payload: [], now: Self.t0) == [.failed(.finishFailed, "Bootstrap-Finish answered 5.00")])

        var garbage = Session(endpoint: "e", plan: Self.plan)
        _ = garbage.start(now: Self.t0)
        #expect(garbage.received(CoAPCode(2, 5), payload: [0xFF, 0xFE], now: Self.t0)
                == [.failed(.requestFailed, "Bootstrap-Discover answered 2.05 with what is not a link format")])

        var cancelled = Session(endpoint: "e", plan: Self.plan)
        _ = cancelled.start(now: Self.t0)
        #expect(cancelled.cancel("a new POST /bs") == [.failed(.cancelled, "a new POST /bs")])
        #expect(cancelled.cancel("again").isEmpty)
    }

    @Test func theLifetimeWrittenIsBoundedBySevenDays() {
        #expect(BootstrapPlan(serverURI: "u", pskIdentity: [], psk: [], lifetime: 30 * 86_400).lifetime == 7 * 86_400)
        #expect(BootstrapPlan(serverURI: "u", pskIdentity: [], psk: []).lifetime == 86_400)
    }
}

extension CoAPCode {
    static let deleted = CoAPCode(2, 2)
}
