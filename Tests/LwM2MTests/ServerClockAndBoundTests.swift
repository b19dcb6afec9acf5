import Foundation
import GatewayCore
@testable import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// The server on the clock it is given, and the bound of its event stream, against a simulated
/// module over real DTLS-PSK on 127.0.0.1.
@Suite(.serialized) struct ServerClockAndBoundTests {
    @Test func lifetimesRunOnTheClockTheServerIsGiven() async throws {
        let manual = ManualClock()
        let key = ServerIntegrationTests.randomKey()
        let rig = try ServerIntegrationTests.rig(devices: [NBIoTDevice(nodeId: "861234567890031", productId: "meter", psk: key)],
                                                 clock: .manual(manual))
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890031", psk: key, lifetime: 1))
        rig.simulator.register(device)
        _ = await rig.serverEvents.first { if case .observing("861234567890031", _) = $0 { true } else { nil } }
        // A second and a half of real time: the manual clock has not moved, the device stays registered.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!rig.serverEvents.all.contains { if case .offline = $0 { true } else { false } })
        manual.advance(by: .seconds(1))
        let offline = await rig.serverEvents.first(timeout: .seconds(3)) {
            if case .offline("861234567890031", let reason) = $0 { reason } else { nil }
        }
        #expect(offline == .lifetimeExpired)
    }

    @Test func uplinksBeyondTheBoundAreDroppedAndCountedStatusEventsAreNot() async throws {
        let key = ServerIntegrationTests.randomKey()
        let rig = try ServerIntegrationTests.rig(devices: [NBIoTDevice(nodeId: "861234567890032", productId: "meter", psk: key)],
                                                 maxQueuedUplinks: 0)
        defer { rig.stop() }
        let device = rig.simulator.add(.init(endpoint: "861234567890032", psk: key))
        rig.simulator.register(device)
        _ = await rig.serverEvents.first { if case .observing("861234567890032", _) = $0 { true } else { nil } }
        rig.simulator.notify(device, payload: [0x01])
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.uplinksDropped == 1 })
        #expect(await Eventually.wait(timeout: .seconds(5)) { rig.server.counters.notifications == 1 })
        rig.simulator.deregister(device)
        let offline = await rig.serverEvents.first { if case .offline("861234567890032", let reason) = $0 { reason } else { nil } }
        #expect(offline == .deregistered)
        #expect(!rig.serverEvents.all.contains { if case .uplink = $0 { true } else { false } })
        #expect(rig.serverEvents.all.contains { if case .registered = $0 { true } else { false } })
    }
}
