import Foundation
import GatewayCore
@testable import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// The server against simulated modules over real DTLS-PSK on 127.0.0.1.
@Suite(.serialized) struct ServerIntegrationTests {
    static func randomKey() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    struct Rig {
        let server: LwM2MServer
        let serverEvents: EventRecorder<LwM2MServerEvent>
        let simulator: NBIoTDeviceSimulator
        let deviceEvents: EventRecorder<NBIoTDeviceSimulator.Event>
        let port: UInt16

        func stop() {
            simulator.stop()
            server.stop()
        }
    }

    static func rig(devices: [NBIoTDevice], settings: (inout LwM2MServerSettings) -> Void = { _ in },
                    clock: GatewayClock = .system(), maxQueuedUplinks: Int = LwM2MServer.defaultMaxQueuedUplinks,
                    responder: (@Sendable (Int, [UInt8]) -> [UInt8]?)? = nil) throws -> Rig {
        let port = FreePort.next(udp: true)
        var serverSettings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        serverSettings.libcoapLogLevel = 3
        settings(&serverSettings)
        let server = LwM2MServer(settings: serverSettings, directory: StaticDeviceDirectory(devices), clock: clock,
                                 maxQueuedUplinks: maxQueuedUplinks)
        let serverEvents = EventRecorder(server.events)
        try server.start()
        let simulator = NBIoTDeviceSimulator(serverPort: serverSettings.plainListeners.first?.port ?? port, responder: responder)
        let deviceEvents = EventRecorder(simulator.events)
        try simulator.start()
        return Rig(server: server, serverEvents: serverEvents, simulator: simulator, deviceEvents: deviceEvents, port: port)
    }

    /// Sockets bound to `port` in /proc/net/udp (the kernel's view, whoever owns them).
    /// Sockets of this process bound to the port (getsockname on every descriptor).
    static func udpSocketsBound(to port: UInt16) -> Int { SocketTools.udpSockets(boundTo: port, family: AF_INET).count }

    @Test(arguments: [(1, 1), (4, 1), (2, 2)])
    func devicesRegisterThroughEverySocketOfAListener(sockets: Int, threads: Int) async throws {
        let keys = (0..<24).map { _ in Self.randomKey() }
        let devices = keys.enumerated().map { NBIoTDevice(nodeId: "86123456789\(1000 + $0.offset)", productId: "meter", psk: $0.element) }
        let rig = try Self.rig(devices: devices) {
            $0.socketsPerListener = sockets
            $0.coapThreads = threads
        }
        defer { rig.stop() }
        #expect(rig.server.receiveBufferSizes.count == sockets * threads)
        #expect(Self.udpSocketsBound(to: rig.port) == sockets * threads)
        for (index, device) in devices.enumerated() {
            rig.simulator.register(rig.simulator.add(.init(endpoint: device.nodeId, psk: keys[index])))
        }
        // Each device has its own source port, so SO_REUSEPORT spreads them over the sockets.
        #expect(await Eventually.wait(timeout: .seconds(10)) { rig.server.counters.observesSent == devices.count })
        let observedAll = await Eventually.wait(timeout: .seconds(10)) {
            Set(rig.deviceEvents.all.compactMap { if case .observed(let device, _, _, _) = $0 { device } else { nil } }).count == devices.count
        }
        #expect(observedAll)
        // Every thread served some of them (24 source ports over 2 threads: all on one is 2 in 2^24).
        #expect(rig.server.countersByThread.count == threads)
        #expect(rig.server.countersByThread.allSatisfy { $0.registrations > 0 })
    }

    @Test func registerThenObserveArrivesWithinOneSecondAndUplinkFlows() async throws {
        let key = Self.randomKey()
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890123", productId: "meter", psk: key)])
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890123", psk: key))
        rig.simulator.register(device)

        let location = await rig.deviceEvents.first { if case .registered(0, let location) = $0 { location } else { nil } }
        #expect(location?.hasPrefix("rd/") == true)
        let observed = await rig.deviceEvents.first { event -> (String, Duration)? in
            if case .observed(0, let path, _, let sinceRegister) = event { (path, sinceRegister) } else { nil }
        }
        #expect(observed?.0 == "/19/0/0")
        let latency = try #require(observed?.1)
        print("register -> observe at the device: \(latency)")
        #expect(latency < .seconds(1))
        let registered = await rig.serverEvents.first { if case .registered(let info) = $0 { info } else { nil } }
        #expect(registered?.productId == "meter")
        #expect(registered?.secure == true)
        _ = await rig.serverEvents.first { if case .observing("861234567890123", _) = $0 { true } else { nil } }

        rig.simulator.notify(device, payload: [0x00, 0x01, 0x02, 0xFF])
        let uplink = await rig.serverEvents.first { event -> [UInt8]? in
            if case .uplink("861234567890123", "meter", let payload, _) = event { payload } else { nil }
        }
        #expect(uplink == [0x00, 0x01, 0x02, 0xFF])

        rig.simulator.deregister(device)
        let offline = await rig.serverEvents.first { if case .offline("861234567890123", let reason) = $0 { reason } else { nil } }
        #expect(offline == .deregistered)
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.handshakesCompleted == 1 })
    }
}

extension ServerIntegrationTests {
    @Test func wrongKeyWithKnownIdentityIsRefused() async throws {
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890001", productId: "meter", psk: Self.randomKey())])
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890001", psk: Self.randomKey()))
        rig.simulator.register(device)
        let registered = await rig.deviceEvents.first(timeout: .seconds(2)) { if case .registered = $0 { true } else { nil } }
        #expect(registered == nil)
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.identitiesAccepted >= 1 })
        #expect(rig.server.counters.handshakesCompleted == 0)
        #expect(rig.server.counters.registrations == 0)
    }

    @Test func unknownIdentityIsRefusedAndCounted() async throws {
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890002", productId: "meter", psk: Self.randomKey())])
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567899999", psk: Self.randomKey()))
        rig.simulator.register(device)
        let registered = await rig.deviceEvents.first(timeout: .seconds(2)) { if case .registered = $0 { true } else { nil } }
        #expect(registered == nil)
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.unknownIdentities >= 1 })
        #expect(rig.server.counters.handshakesCompleted == 0)
    }

    @Test func identityOfAnotherDeviceCannotRegisterThisEndpoint() async throws {
        let keyA = Self.randomKey()
        let rig = try Self.rig(devices: [
            NBIoTDevice(nodeId: "861234567890003", productId: "meter", psk: keyA),
            NBIoTDevice(nodeId: "861234567890004", productId: "meter", psk: Self.randomKey()),
        ])
        defer { rig.stop() }
        // Authenticates as device 3, claims to be device 4.
        let device = rig.simulator.add(.init(endpoint: "861234567890004", pskIdentity: "861234567890003", psk: keyA))
        rig.simulator.register(device)
        let refused = await rig.deviceEvents.first { if case .registerRefused(0, let code) = $0 { code } else { nil } }
        #expect(refused == "4.03")
        // The counters are published after the loop pass that sent the answer.
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.registrationsRefused == 1 })
    }

    /// With several CoAP threads the first one expires every thread's registrations.
    @Test(arguments: [1, 3])
    func lifetimeExpiryMarksTheDeviceOffline(threads: Int) async throws {
        let key = Self.randomKey()
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890005", productId: "meter", psk: key)]) {
            $0.coapThreads = threads
        }
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890005", psk: key, lifetime: 1))
        rig.simulator.register(device)
        let offline = await rig.serverEvents.first(timeout: .seconds(4)) { if case .offline("861234567890005", let reason) = $0 { reason } else { nil } }
        #expect(offline == .lifetimeExpired)
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.expirations == 1 })
    }

    @Test(arguments: [1, 2])
    func newHandshakeFromAnAddressWithASessionReplacesItAtOnce(threads: Int) async throws {
        let key = Self.randomKey()
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890006", productId: "meter", psk: key)]) {
            $0.coapThreads = threads
        }
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890006", psk: key))
        rig.simulator.register(device)
        _ = await rig.deviceEvents.first { if case .observed(0, _, _, _) = $0 { true } else { nil } }

        let start = ContinuousClock.now
        rig.simulator.reboot(device)
        // The first observe is already recorded: wait for the second one.
        let secondObserve = await rig.deviceEvents.first(timeout: .seconds(5)) { _ in
            rig.deviceEvents.all.filter { if case .observed = $0 { true } else { false } }.count >= 2 ? true : nil
        }
        let elapsed = start.duration(to: .now)
        print("same-address reconnect -> observe: \(elapsed)")
        #expect(secondObserve == true)
        #expect(elapsed < .seconds(3))
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.sessionsReplaced == 1 })
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.handshakesCompleted == 2 })
    }

    @Test func registrationWithoutEndpointAndUnknownEndpointOnPlainCoAP() async throws {
        let plainPort = FreePort.next(udp: true)
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890007", productId: "meter", secure: false)]) {
            $0.plainListeners = [.init(host: "127.0.0.1", port: plainPort)]
        }
        defer { rig.stop() }
        let known = rig.simulator.add(.init(endpoint: "861234567890007", psk: [], plain: true))
        let unknown = rig.simulator.add(.init(endpoint: "861234567890008", psk: [], plain: true))
        rig.simulator.register(known)
        rig.simulator.register(unknown)
        #expect(await rig.deviceEvents.first { if case .registered(known, _) = $0 { true } else { nil } } == true)
        #expect(await rig.deviceEvents.first { if case .observed(known, _, _, _) = $0 { true } else { nil } } == true)
        #expect(await rig.deviceEvents.first { if case .registerRefused(unknown, let code) = $0 { code } else { nil } } == "4.03")
        let registered = await rig.serverEvents.first { if case .registered(let info) = $0 { info } else { nil } }
        #expect(registered?.secure == false)
    }
}

extension ServerIntegrationTests {
    @Test func listensOnIPv4AndIPv6AtOnce() throws {
        let port = FreePort.next(udp: true)
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port), .init(host: "::1", port: port)])
        settings.libcoapLogLevel = 3
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([]))
        try server.start()
        defer { server.stop() }
        #expect(server.receiveBufferSizes.count == 2 * LwM2MServerSettings.defaultSocketsPerListener * LwM2MServerSettings.defaultCoAPThreads)
        #expect(server.receiveBufferSizes.allSatisfy { $0 >= 2 * 212_992 })
    }

    @Test func aListenerThatCannotBindIsAnError() throws {
        let port = FreePort.next(udp: true)
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = 0
        let first = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([]))
        try first.start()
        defer { first.stop() }
        #expect(throws: (any Error).self) { try LwM2MServer(settings: settings, directory: StaticDeviceDirectory([])).start() }
        settings.dtlsListeners = [.init(host: "not-an-address", port: port)]
        #expect(throws: (any Error).self) { try LwM2MServer(settings: settings, directory: StaticDeviceDirectory([])).start() }
    }
}

extension ServerIntegrationTests {
    @Test func sleepingDeviceIsUnreachableAndWakesWithAnUpdateFromANewAddress() async throws {
        let key = Self.randomKey()
        let rig = try Self.rig(devices: [NBIoTDevice(nodeId: "861234567890400", productId: "meter", psk: key)]) {
            $0.ackTimeout = 0.2
            $0.maxRetransmit = 1
        }
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890400", psk: key))
        rig.simulator.register(device)
        _ = await rig.deviceEvents.first { if case .observed(0, _, _, _) = $0 { true } else { nil } }

        rig.simulator.sleep(device)
        try await Task.sleep(for: .milliseconds(100))
        rig.server.send(Downlink(nodeId: "861234567890400", payload: [1], tag: 1))
        let asleep = await rig.serverEvents.first { if case .downlinkResult(1, _, let result) = $0 { result } else { nil } }
        #expect(asleep == .timedOut)

        rig.simulator.wake(device)
        let updated = await rig.deviceEvents.first { if case .updated(0, let code) = $0 { code } else { nil } }
        #expect(updated == "2.04")
        let observes = await rig.deviceEvents.first { _ in
            rig.deviceEvents.all.filter { if case .observed = $0 { true } else { false } }.count >= 2 ? true : nil
        }
        #expect(observes == true)
        rig.server.send(Downlink(nodeId: "861234567890400", payload: [2], tag: 2))
        let awake = await rig.serverEvents.first { if case .downlinkResult(2, _, let result) = $0 { result } else { nil } }
        #expect(awake == .acknowledged(code: 68))
        #expect(await rig.deviceEvents.first { if case .downlink(0, "/19/1/0", "POST", [2]) = $0 { true } else { nil } } == true)
    }
}

extension ServerIntegrationTests {
    /// A device that wakes from a new address may land on another CoAP thread's socket: its Update
    /// is served there, the old thread's observation is stale, and downlinks follow it.
    @Test func devicesThatMoveToAnotherThreadKeepTheirRegistrationAndTakeDownlinks() async throws {
        let keys = (0..<8).map { _ in Self.randomKey() }
        let devices = keys.enumerated().map { NBIoTDevice(nodeId: "86123456789\(2000 + $0.offset)", productId: "meter", psk: $0.element) }
        let rig = try Self.rig(devices: devices) {
            $0.coapThreads = 4
            $0.socketsPerListener = 1
            $0.ackTimeout = 0.2
            $0.maxRetransmit = 1
        }
        defer { rig.stop() }
        let handles = devices.enumerated().map { rig.simulator.add(.init(endpoint: $0.element.nodeId, psk: keys[$0.offset])) }
        for handle in handles { rig.simulator.register(handle) }
        func observed(_ index: Int) -> Int {
            rig.deviceEvents.all.filter { if case .observed(index, _, _, _) = $0 { true } else { false } }.count
        }
        #expect(await Eventually.wait(timeout: .seconds(10)) { handles.allSatisfy { observed($0) == 1 } })
        // Each wakes from a new source port: with 4 threads, all 8 staying put is 1 in 4^8.
        for handle in handles {
            rig.simulator.sleep(handle)
            rig.simulator.wake(handle)
        }
        #expect(await Eventually.wait(timeout: .seconds(10)) { handles.allSatisfy { observed($0) == 2 } })
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.updates == devices.count })
        #expect(rig.server.counters.registrations == devices.count)
        print("registrations by thread \(rig.server.countersByThread.map(\.registrations)), updates \(rig.server.countersByThread.map(\.updates))")
        for (index, device) in devices.enumerated() {
            rig.server.send(Downlink(nodeId: device.nodeId, payload: [UInt8(index)], tag: UInt64(index)))
        }
        for (index, device) in devices.enumerated() {
            let result = await rig.serverEvents.first { if case .downlinkResult(UInt64(index), device.nodeId, let result) = $0 { result } else { nil } }
            #expect(result == .acknowledged(code: 68), "\(device.nodeId)")
        }
        // An uplink on the new session reaches the server.
        rig.simulator.notify(handles[0], payload: [0xAB])
        let uplink = await rig.serverEvents.first { if case .uplink(devices[0].nodeId, _, let payload, _) = $0 { payload } else { nil } }
        #expect(uplink == [0xAB])
    }
}
