import Foundation
import Testing
@testable import Gateway

/// What `edgegw provision list` says of a device's provisioning: a bootstrap loop found after its
/// last registration comes first, one a registration came after comes last.
@Suite struct ProvisioningStateTextTests {
    static func state(bootstrapped: Double? = nil, registered: Double? = nil, loopAt: Double? = nil, loopCount: Int? = nil)
        -> NBIoTProvisioning.DeviceState {
        NBIoTProvisioning.DeviceState(nodeId: "861234567890001", productId: "water-meter", keySource: .generated, bootstrap: true,
                                      bootstrappedAt: bootstrapped.map(Date.init(timeIntervalSince1970:)),
                                      registeredAt: registered.map(Date.init(timeIntervalSince1970:)),
                                      bootstrapLoopAt: loopAt.map(Date.init(timeIntervalSince1970:)), bootstrapLoopCount: loopCount)
    }

    @Test func theStatesWithoutALoop() {
        #expect(Self.state().stateText == "never bootstrapped")
        #expect(Self.state(bootstrapped: 1_700_000_000).stateText == "bootstrapped at 2023-11-14T22:13:20Z")
        #expect(Self.state(bootstrapped: 1_700_000_000, registered: 1_700_000_001).stateText
                == "registered at 2023-11-14T22:13:21Z (bootstrapped at 2023-11-14T22:13:20Z)")
    }

    @Test func aLoopAfterTheLastRegistrationIsSaidFirst() {
        let looping = Self.state(bootstrapped: 1_700_000_300, registered: 1_700_000_001, loopAt: 1_700_000_200, loopCount: 3)
        #expect(looping.stateText == "bootstrap loop at 2023-11-14T22:16:40Z (3 bootstraps in 10 min); "
                + "registered at 2023-11-14T22:13:21Z (bootstrapped at 2023-11-14T22:18:20Z)")
        let neverRegistered = Self.state(bootstrapped: 1_700_000_300, loopAt: 1_700_000_200, loopCount: 5)
        #expect(neverRegistered.stateText.hasPrefix("bootstrap loop at 2023-11-14T22:16:40Z (5 bootstraps in 10 min); bootstrapped at"))
    }

    @Test func aLoopARegistrationCameAfterIsSaidLast() {
        let settled = Self.state(bootstrapped: 1_700_000_300, registered: 1_700_000_400, loopAt: 1_700_000_200, loopCount: 3)
        #expect(settled.stateText == "registered at 2023-11-14T22:20:00Z (bootstrapped at 2023-11-14T22:18:20Z); "
                + "last bootstrap loop at 2023-11-14T22:16:40Z (3 bootstraps in 10 min)")
    }
}
