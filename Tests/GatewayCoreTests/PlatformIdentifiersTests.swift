import Testing
@testable import GatewayCore

/// The platform's identifier rules (spec mqtt-gateway §1.1): each limit a named constant.
@Suite struct PlatformIdentifiersTests {
    @Test func documentedConstants() {
        #expect(PlatformIdentifiers.deviceIdLengths == 1...128)
        #expect(PlatformIdentifiers.deviceIdPunctuation == ["_", "-"])
        #expect(PlatformIdentifiers.childDeviceIdSeparator == "_")
    }

    @Test func deviceIdLengthAndAlphabet() {
        #expect(PlatformIdentifiers.deviceIdProblem("60a87ffebaccd902c2f1abbb_0001") == nil)
        #expect(PlatformIdentifiers.deviceIdProblem(String(repeating: "a", count: 128)) == nil)
        #expect(PlatformIdentifiers.deviceIdProblem(String(repeating: "a", count: 129))?.problem
                == "device_id is 129 characters long; the platform allows 1 to 128")
        #expect(PlatformIdentifiers.deviceIdProblem("")?.problem == "device_id is 0 characters long; the platform allows 1 to 128")
        #expect(PlatformIdentifiers.deviceIdProblem("gw/1")?.problem == "device_id \"gw/1\" has '/', which the platform does not allow")
        #expect(PlatformIdentifiers.deviceIdProblem("gw 1")?.problem == "device_id \"gw 1\" has a space, which the platform does not allow")
        #expect(PlatformIdentifiers.deviceIdProblem("gw-é")?.problem == "device_id \"gw-é\" has U+E9, which the platform does not allow")
        for bad in ["gw#1", "gw+1", "gw.1", "gw:1", "gw\t1"] { #expect(PlatformIdentifiers.deviceIdProblem(bad) != nil, "\(bad)") }
    }

    @Test func aNodeIdMustLeaveTheChildsDeviceIdValid() {
        // The platform names the child "{product_id}_{node_id}" (24 + 1 + 103 = 128).
        let product = "60a87ffebaccd902c2f1abbb"
        #expect(PlatformIdentifiers.maxNodeIdLength(productId: product) == 103)
        #expect(PlatformIdentifiers.childDeviceId(productId: product, nodeId: "0001") == "60a87ffebaccd902c2f1abbb_0001")
        #expect(PlatformIdentifiers.nodeIdProblem(String(repeating: "n", count: 103), productId: product) == nil)
        let long = PlatformIdentifiers.nodeIdProblem(String(repeating: "n", count: 104), productId: product)
        #expect(long?.problem == "node_id is 104 characters long; with product \(product) the platform's device_id"
                + " \(product)_nnnnnnnn… would be 129, and it allows 128")
        #expect(long?.fix == "use a node_id of at most 103 characters")
        #expect(PlatformIdentifiers.nodeIdProblem("861234567890123", productId: product) == nil)
        #expect(PlatformIdentifiers.nodeIdProblem("AA:BB", productId: "p")?.problem
                == "node_id \"AA:BB\" has ':', which the platform does not allow in the device_id p_AA:BB")
    }
}
