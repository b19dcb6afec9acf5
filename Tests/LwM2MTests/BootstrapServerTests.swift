import Bootstrap
import Foundation
import GatewayCore
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// The bootstrap server over real DTLS-PSK on 127.0.0.1 with the project's libcoap module
/// simulator: bootstrap with the bootstrap PSK, then Register with the pushed key on edgegw's
/// LwM2M server and its Observe.
@Suite(.serialized) struct BootstrapServerTests {
    static func randomKey() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    /// Bootstrap keys and connection keys by node id, as the gateway would give them.
    struct Provider: BootstrapProvider {
        var bootstrapKeys: [String: [UInt8]]
        var connectionKeys: [String: [UInt8]]
        var lwm2mPort: UInt16

        func bootstrapKey(identity: String) -> [UInt8]? { bootstrapKeys[identity] }

        func plan(endpoint: String, identity: String?, localHost: String) -> Result<BootstrapPlan, BootstrapRefusal> {
            guard identity == endpoint, bootstrapKeys[endpoint] != nil else {
                return .failure(BootstrapRefusal(.unauthorized, "\(endpoint) is not the identity \(identity ?? "-") bootstrapped with"))
            }
            guard let key = connectionKeys[endpoint] else { return .failure(BootstrapRefusal(.noConfiguration, "no connection key for \(endpoint)")) }
            return .success(BootstrapPlan(serverURI: "coaps://\(localHost):\(lwm2mPort)", pskIdentity: Array(endpoint.utf8), psk: key))
        }
    }

    struct Site {
        let lwm2m: LwM2MServer
        let bootstrap: BootstrapServer
        let bootstrapEvents: EventRecorder<BootstrapServerEvent>
        let simulator: NBIoTDeviceSimulator
        let deviceEvents: EventRecorder<NBIoTDeviceSimulator.Event>
        let bootstrapPort: UInt16

        func stop() {
            simulator.stop()
            bootstrap.stop()
            lwm2m.stop()
        }
    }

    static func site(nodeId: String, bootstrapKey: [UInt8], connectionKey: [UInt8], discover: Bool = true,
                     requestTimeout: Duration = .seconds(30)) throws -> Site {
        let lwm2mPort = FreePort.next(udp: true)
        let lwm2m = LwM2MServer(settings: LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: lwm2mPort)]),
                                directory: StaticDeviceDirectory([NBIoTDevice(nodeId: nodeId, productId: "meter", psk: connectionKey)]))
        try lwm2m.start()
        let bootstrapPort = FreePort.next(udp: true)
        let bootstrap = BootstrapServer(settings: BootstrapServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: bootstrapPort)],
                                                                         requestTimeout: requestTimeout, discover: discover),
                                        provider: Provider(bootstrapKeys: [nodeId: bootstrapKey], connectionKeys: [nodeId: connectionKey],
                                                           lwm2mPort: lwm2mPort))
        let bootstrapEvents = EventRecorder(bootstrap.events)
        try bootstrap.start()
        // The simulator's default server is nowhere: the module learns edgegw's address by bootstrap.
        let simulator = NBIoTDeviceSimulator(serverPort: 9)
        let deviceEvents = EventRecorder(simulator.events)
        try simulator.start()
        return Site(lwm2m: lwm2m, bootstrap: bootstrap, bootstrapEvents: bootstrapEvents, simulator: simulator,
                    deviceEvents: deviceEvents, bootstrapPort: bootstrapPort)
    }

    @Test func anUnprovisionedModuleBootstrapsThenRegistersWithThePushedKeyAndIsObserved() async throws {
        let nodeId = "861234567890401"
        let bootstrapKey = Self.randomKey(), connectionKey = Self.randomKey()
        let site = try Self.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: connectionKey)
        defer { site.stop() }
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [], bootstrap: .init(port: site.bootstrapPort, psk: bootstrapKey)))
        let start = ContinuousClock.now
        site.simulator.bootstrap(device)

        let answered = await site.deviceEvents.first { if case .bootstrapAnswered(_, let code) = $0 { code } else { nil } }
        #expect(answered == "2.04")
        let uri = await site.deviceEvents.first(timeout: .seconds(10)) { if case .bootstrapped(_, let uri) = $0 { uri } else { nil } }
        #expect(uri == "coaps://127.0.0.1:\(site.lwm2m.settings.dtlsListeners[0].port)")
        let finishedAt = ContinuousClock.now
        let observed = await site.deviceEvents.first(timeout: .seconds(10)) { if case .observed = $0 { true } else { nil } }
        #expect(observed == true, "\(site.deviceEvents.all)")
        let registerToObserve = finishedAt.duration(to: .now)
        print("bootstrap: POST /bs -> Finish -> Register -> Observe in \(start.duration(to: .now)); Finish -> Observe \(registerToObserve)")
        #expect(registerToObserve < .seconds(4), "inside the modules' 4 s budget")

        let requests = site.deviceEvents.all.compactMap { event -> String? in
            if case .bootstrapRequest(_, let method, let path, let code) = event { "\(method) \(path) \(code)" } else { nil }
        }
        #expect(requests == ["GET / 2.05", "PUT /0/1 2.04", "PUT /1/0 2.04", "POST /bs 2.04"], "the bootstrap account /0/0 is kept")
        #expect(await Eventually.wait { site.bootstrap.counters.finished == 1 })
        #expect(site.bootstrapEvents.all.contains(.finished(endpoint: nodeId)))
    }

    @Test func anLwM2M10ModuleGetsDeletesOfBothObjectsInstead() async throws {
        let nodeId = "861234567890402"
        let bootstrapKey = Self.randomKey()
        let site = try Self.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: Self.randomKey())
        defer { site.stop() }
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [],
                                              bootstrap: .init(port: site.bootstrapPort, psk: bootstrapKey, discover: false)))
        site.simulator.bootstrap(device)
        #expect(await site.deviceEvents.first(timeout: .seconds(10)) { if case .observed = $0 { true } else { nil } } == true)
        let requests = site.deviceEvents.all.compactMap { event -> String? in
            if case .bootstrapRequest(_, let method, let path, _) = event { "\(method) \(path)" } else { nil }
        }
        #expect(requests == ["GET /", "DELETE /0", "DELETE /1", "PUT /0/1", "PUT /1/0", "POST /bs"])
    }

    @Test func aWrongBootstrapKeyFailsTheHandshakeAndNothingStarts() async throws {
        let nodeId = "861234567890403"
        let site = try Self.site(nodeId: nodeId, bootstrapKey: Self.randomKey(), connectionKey: Self.randomKey())
        defer { site.stop() }
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [], bootstrap: .init(port: site.bootstrapPort, psk: Self.randomKey())))
        site.simulator.bootstrap(device)
        let answered = await site.deviceEvents.first(timeout: .seconds(3)) { if case .bootstrapAnswered = $0 { true } else { nil } }
        #expect(answered == nil)
        #expect(site.bootstrap.counters.started == 0)
        // An identity with no bootstrap key at all is counted as such.
        let stranger = site.simulator.add(.init(endpoint: "861234567890499", psk: [],
                                                bootstrap: .init(port: site.bootstrapPort, psk: Self.randomKey())))
        site.simulator.bootstrap(stranger)
        #expect(await Eventually.wait(timeout: .seconds(5)) { site.bootstrap.counters.unknownIdentities >= 1 })
        #expect(site.bootstrap.counters.started == 0)
    }

    @Test func bootstrapsInARowAreALoopSaidOnce() async throws {
        let nodeId = "861234567890404"
        let bootstrapKey = Self.randomKey()
        let site = try Self.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: Self.randomKey())
        defer { site.stop() }
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [], bootstrap: .init(port: site.bootstrapPort, psk: bootstrapKey)))
        for _ in 0..<3 {
            site.simulator.bootstrap(device)
            _ = await site.deviceEvents.first(timeout: .seconds(10)) { if case .bootstrapped = $0 { true } else { nil } }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(await Eventually.wait { site.bootstrap.counters.started == 3 })
        let loops = site.bootstrapEvents.all.filter { if case .loop = $0 { true } else { false } }
        #expect(loops == [.loop(endpoint: nodeId, count: 3)], "\(site.bootstrapEvents.all)")
        #expect(site.bootstrap.loops[nodeId] == 3)
    }
}
