import CCoAP
import GatewayCore
@testable import LwM2M
import Testing

@Suite struct RegistrationTableTests {
    typealias Table = RegistrationTable<ManualClock.Instant>
    let clock = ManualClock()
    let meter = NBIoTDevice(nodeId: "861234567890123", productId: "meter", psk: [1, 2, 3, 4])
    let identity = Transport.dtls(identity: "861234567890123")

    func request(_ query: String, _ body: String = "</19/0>,</19/1>") throws -> RegistrationRequest {
        try RegistrationRequest.parse(query: query, body: Array(body.utf8))
    }

    @Test func registerRepliesCreatedThenObservesTheDataResource() throws {
        var table = Table()
        let actions = table.register(try request("ep=861234567890123&lt=300&lwm2m=1.0&b=U"), device: meter,
                                     transport: identity, peer: PeerID(7), address: "10.0.0.5:4000", at: clock.now)
        #expect(actions == [
            .reply(.created(registrationId: "1")),
            .observe(nodeId: "861234567890123", registrationId: "1", path: "/19/0/0", peer: PeerID(7)),
            .registered(nodeId: "861234567890123", renewed: false),
        ])
        // The reply comes before the Observe (the engine sends the Observe right after the reply, same loop turn).
        let replyIndex = actions.firstIndex { if case .reply = $0 { true } else { false } }
        let observeIndex = actions.firstIndex { if case .observe = $0 { true } else { false } }
        #expect(try #require(replyIndex) < #require(observeIndex))
    }

    @Test func tupObjectListObservesTD() throws {
        var table = Table()
        let actions = table.register(try request("ep=861234567890123", "</t/d>"), device: meter, transport: identity,
                                     peer: PeerID(1), address: "a", at: clock.now)
        #expect(actions.contains(.observe(nodeId: "861234567890123", registrationId: "1", path: "/t/d", peer: PeerID(1))))
        #expect(table.registration(nodeId: "861234567890123")?.resources == .tup)
    }

    @Test func configuredResourcesWinWhenTheDeviceAnnouncesThem() throws {
        var table = Table()
        var device = meter
        device.resources = DataResources(uplink: "/5/0/1", downlink: "/5/0/2")
        let actions = table.register(try request("ep=861234567890123", "</3/0>,</5/0>,</t/d>"), device: device, transport: identity,
                                     peer: PeerID(1), address: "a", at: clock.now)
        #expect(actions.contains(.observe(nodeId: "861234567890123", registrationId: "1", path: "/5/0/1", peer: PeerID(1))))
        #expect(table.registration(nodeId: "861234567890123")?.resources.downlink == "/5/0/2")
    }

    /// What the device announces is observed, never a resource it did not name (it would answer 4.04).
    @Test(arguments: [
        ("</1/0>,</3/0>,</t/d>", nil, "/t/d"),                        // no object 19: TUP
        ("</1/0>,</19>", nil, "/19/0/0"),                             // the object, without instances
        ("</1/0>,</19/0>,</19/1>", "/t/d", "/19/0/0"),                // configured /t/d not announced
        ("</>;rt=\"oma.lwm2m\",</1/0>,</31024/10>", "/31024/10/1", "/31024/10/1"),
    ] as [(String, String?, String)])
    func theObservedResourceIsOneTheDeviceAnnounces(objects: String, configured: String?, observed: String) throws {
        var table = Table()
        var device = meter
        device.resources = configured.map { DataResources(uplink: $0, downlink: $0) }
        let actions = table.register(try request("ep=861234567890123", objects), device: device, transport: identity,
                                     peer: PeerID(1), address: "a", at: clock.now)
        let paths = actions.compactMap { if case .observe(_, _, let path, _) = $0 { path } else { nil } }
        #expect(paths == [observed])
        #expect(table.registration(nodeId: "861234567890123")?.observedPath == observed)
    }

    @Test func noDataResourceAnnouncedMeansNoObserveUntilAnUpdateAnnouncesOne() throws {
        var table = Table()
        let actions = table.register(try request("ep=861234567890123", "</1/0>,</3/0>,</5/0>,</19/1>"), device: meter,
                                     transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        #expect(actions == [.reply(.created(registrationId: "1")), .registered(nodeId: "861234567890123", renewed: false)])
        let registration = try #require(table.registration(nodeId: "861234567890123"))
        #expect(registration.observedPath == nil)
        #expect(RegistrationInfo(registration).observedPath == nil)
        #expect(RegistrationInfo(registration).objectLinks == ["/1/0", "/3/0", "/5/0", "/19/1"])
        // An Update without an object list changes nothing; one that names object 19 is observed.
        let quiet = table.update(registrationId: "1", lifetime: nil, binding: nil, objectLinks: [], transport: identity,
                                 peer: PeerID(1), address: "a", at: clock.now)
        #expect(!quiet.contains { if case .observe = $0 { true } else { false } })
        let announced = table.update(registrationId: "1", lifetime: nil, binding: nil, objectLinks: ["/1/0", "/19/0", "/19/1"],
                                     transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        #expect(announced.contains(.observe(nodeId: "861234567890123", registrationId: "1", path: "/19/0/0", peer: PeerID(1))))
    }

    @Test func refusals() throws {
        var table = Table()
        #expect(table.register(try request("lt=300"), device: nil, transport: .udp, peer: PeerID(1), address: "a", at: clock.now)
            == [.reply(.badRequest("registration without ep"))])
        let unknown = table.register(try request("ep=999"), device: nil, transport: .udp, peer: PeerID(1), address: "a", at: clock.now)
        #expect(unknown.count == 1)
        guard case .reply(.forbidden) = unknown.first else { Issue.record("unknown endpoint not refused: \(unknown)"); return }
        let wrongIdentity = table.register(try request("ep=861234567890123"), device: meter, transport: .dtls(identity: "other"),
                                           peer: PeerID(1), address: "a", at: clock.now)
        guard case .reply(.forbidden) = wrongIdentity.first else { Issue.record("identity mismatch not refused"); return }
        let plainSecure = table.register(try request("ep=861234567890123"), device: meter, transport: .udp,
                                         peer: PeerID(1), address: "a", at: clock.now)
        guard case .reply(.forbidden) = plainSecure.first else { Issue.record("secure device over plain CoAP not refused"); return }
        #expect(table.count == 0)
    }

    @Test func autoProvisioningAcceptsUnknownEndpointsOnPlainCoAPOnly() throws {
        var table = Table(autoProvisionProductId: "default-product")
        let plain = table.register(try request("ep=861234567890999"), device: nil, transport: .udp, peer: PeerID(1), address: "a", at: clock.now)
        #expect(plain.contains(.reply(.created(registrationId: "1"))))
        #expect(table.registration(nodeId: "861234567890999")?.productId == "default-product")
        let dtls = table.register(try request("ep=861234567890998"), device: nil, transport: .dtls(identity: "x"),
                                  peer: PeerID(2), address: "b", at: clock.now)
        guard case .reply(.forbidden) = dtls.first else { Issue.record("auto-provisioning over DTLS"); return }
    }

    @Test func lifetimeExpiryToTheSecond() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123&lt=60"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        clock.advance(by: .seconds(59))
        #expect(table.expire(at: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(table.expire(at: clock.now) == [.offline(nodeId: "861234567890123", reason: .lifetimeExpired)])
        #expect(table.count == 0)
    }

    @Test func updateRenewsTheLifetime() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123&lt=60"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        clock.advance(by: .seconds(50))
        #expect(table.update(registrationId: "1", lifetime: nil, binding: nil, objectLinks: [], transport: identity,
                             peer: PeerID(1), address: "a", at: clock.now) == [.reply(.changed), .updated(nodeId: "861234567890123")])
        clock.advance(by: .seconds(59))
        #expect(table.expire(at: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(table.expire(at: clock.now).count == 1)
    }

    @Test func updateFromANewAddressObservesAgainOnTheNewPeer() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        let actions = table.update(registrationId: "1", lifetime: nil, binding: nil, objectLinks: [], transport: identity,
                                   peer: PeerID(2), address: "b", at: clock.now)
        #expect(actions == [.peerReplaced(old: PeerID(1), nodeId: "861234567890123"), .reply(.changed),
                            .observe(nodeId: "861234567890123", registrationId: "1", path: "/19/0/0", peer: PeerID(2)),
                            .updated(nodeId: "861234567890123")])
        #expect(table.update(registrationId: "1", lifetime: nil, binding: nil, objectLinks: [], transport: .dtls(identity: "other"),
                             peer: PeerID(3), address: "c", at: clock.now) == [.reply(.forbidden("update for 861234567890123 from another identity"))])
        #expect(table.update(registrationId: "zz", lifetime: nil, binding: nil, objectLinks: [], transport: identity,
                             peer: PeerID(2), address: "b", at: clock.now) == [.reply(.notFound)])
    }

    @Test func newestRegistrationFromANewAddressWins() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        let actions = table.register(try request("ep=861234567890123"), device: meter, transport: identity, peer: PeerID(2), address: "b", at: clock.now)
        #expect(actions == [
            .peerReplaced(old: PeerID(1), nodeId: "861234567890123"),
            .reply(.created(registrationId: "2")),
            .observe(nodeId: "861234567890123", registrationId: "2", path: "/19/0/0", peer: PeerID(2)),
            .registered(nodeId: "861234567890123", renewed: true),
        ])
        #expect(table.registration(nodeId: "861234567890123")?.address == "b")
        #expect(table.registration(id: "1") == nil)
        #expect(table.count == 1)
    }

    @Test func retransmittedRegisterGetsTheSameAnswerAndNoSecondObserve() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123&lt=300"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        clock.advance(by: .seconds(2))
        #expect(table.register(try request("ep=861234567890123&lt=300"), device: meter, transport: identity, peer: PeerID(1),
                               address: "a", at: clock.now) == [.reply(.created(registrationId: "1"))])
        // Later, the same session registering again is a real re-registration.
        clock.advance(by: Table.retransmissionWindow)
        let again = table.register(try request("ep=861234567890123&lt=300"), device: meter, transport: identity, peer: PeerID(1),
                                   address: "a", at: clock.now)
        #expect(again.contains(.observe(nodeId: "861234567890123", registrationId: "2", path: "/19/0/0", peer: PeerID(1))))
    }

    @Test func nextExpiryFollowsTheRegistrations() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123&lt=60"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        var other = meter
        other.nodeId = "861234567890124"
        other.pskIdentity = "861234567890124"
        _ = table.register(try request("ep=861234567890124&lt=30"), device: other, transport: .dtls(identity: "861234567890124"),
                           peer: PeerID(2), address: "b", at: clock.now)
        #expect(table.nextExpiry == clock.now.advanced(by: .seconds(30)))
        _ = table.deregister(registrationId: "2", transport: .dtls(identity: "861234567890124"), at: clock.now)
        #expect(table.nextExpiry == clock.now.advanced(by: .seconds(60)))
    }

    @Test func deregister() throws {
        var table = Table()
        _ = table.register(try request("ep=861234567890123"), device: meter, transport: identity, peer: PeerID(1), address: "a", at: clock.now)
        #expect(table.deregister(registrationId: "1", transport: identity, at: clock.now) == [
            .reply(.deleted), .offline(nodeId: "861234567890123", reason: .deregistered),
        ])
        #expect(table.deregister(registrationId: "1", transport: identity, at: clock.now) == [.reply(.notFound)])
    }
}

@Suite struct RegistrationRequestTests {
    @Test func parsesQueryAndObjectList() throws {
        let request = try RegistrationRequest.parse(query: "ep=861234567890123&lt=86400&lwm2m=1.0&b=UQ&x=1",
                                                    body: Array("</>;rt=\"oma.lwm2m\",</1/0>,</19/0>;ver=1.0,</19/1>".utf8))
        #expect(request == RegistrationRequest(endpoint: "861234567890123", lifetime: 86400, lwm2mVersion: "1.0", binding: "UQ",
                                               objectLinks: ["/", "/1/0", "/19/0", "/19/1"]))
    }

    @Test func rejectsBadInput() {
        #expect(throws: RegistrationRequest.ParseError.badEndpoint("")) { try RegistrationRequest.parse(query: "ep=", body: []) }
        #expect(throws: RegistrationRequest.ParseError.badEndpoint("a b")) { try RegistrationRequest.parse(query: "ep=a b", body: []) }
        let long = String(repeating: "1", count: RegistrationRequest.maxEndpointLength + 1)
        #expect(throws: RegistrationRequest.ParseError.badEndpoint(long)) { try RegistrationRequest.parse(query: "ep=\(long)", body: []) }
        #expect(throws: RegistrationRequest.ParseError.badLifetime("0")) { try RegistrationRequest.parse(query: "ep=1&lt=0", body: []) }
        #expect(throws: RegistrationRequest.ParseError.badLifetime("x")) { try RegistrationRequest.parse(query: "ep=1&lt=x", body: []) }
        #expect(throws: RegistrationRequest.ParseError.badLifetime("604801")) { try RegistrationRequest.parse(query: "ep=1&lt=604801", body: []) }
        let big = [UInt8](repeating: 0x3C, count: RegistrationRequest.maxObjectListBytes + 1)
        #expect(throws: RegistrationRequest.ParseError.objectListTooLong(big.count)) { try RegistrationRequest.parse(query: "ep=1", body: big) }
    }

    @Test func linkFormatIsBounded() {
        let body = Array(String(repeating: "</1/0>,", count: LinkFormat.maxLinks + 10).utf8)
        #expect(LinkFormat.paths(in: body).count == LinkFormat.maxLinks)
        #expect(LinkFormat.paths(in: Array("<unterminated".utf8)).isEmpty)
    }

    @Test func dtlsClientHelloRecognition() {
        var hello: [UInt8] = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1]
        #expect(DTLSRecord.isClientHello(hello))
        hello[4] = 1 // epoch 1: a record of an established session
        #expect(!DTLSRecord.isClientHello(hello))
        #expect(!DTLSRecord.isClientHello([22, 0xFE, 0xFD]))
        #expect(!DTLSRecord.isClientHello([23, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1]))
    }

    @Test func platformLimitsAreNamed() {
        #expect(LwM2MServerSettings.defaultDTLSPort == 5684)
        #expect(LwM2MServerSettings.defaultPlainPort == 5683)
        #expect(LwM2MServerSettings.libcoapDefaultMaxHandshakes == 100)
        #expect(LwM2MServerSettings().maxHandshakesInProgress > LwM2MServerSettings.libcoapDefaultMaxHandshakes)
        #expect(LwM2MServerSettings().plainListeners.isEmpty)
        #expect(LwM2MServerSettings.platformAckTimeout == 10 && LwM2MServerSettings.platformMaxRetransmit == 3)
        let fixed = CoAPServerEngine.fixedPoint(1.5)
        #expect(fixed.integer_part == 1 && fixed.fractional_part == 500)
    }
}
