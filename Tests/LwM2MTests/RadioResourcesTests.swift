import GatewayCore
@testable import LwM2M
import Testing

/// Object 4 values as modules encode them, and the radio properties of a decoded report.
@Suite struct RadioResourcesTests {
    @Test func object4IsAnnouncedByItsObjectOrInstance() {
        #expect(RadioResources.announced(in: ["/1/0", "/4/0", "/19/0"]))
        #expect(RadioResources.announced(in: ["/4"]))
        #expect(!RadioResources.announced(in: ["/1/0", "/40/0", "/19/0"]))
        #expect(!RadioResources.announced(in: []))
    }

    @Test func textValues() {
        var radio = RadioConditions()
        #expect(RadioResources.apply(path: "/4/0/2", payload: Array("-98".utf8), to: &radio))
        #expect(RadioResources.apply(path: "/4/0/8", payload: Array("21456".utf8), to: &radio))
        #expect(RadioResources.apply(path: "/4/0/11", payload: Array("6.6".utf8), to: &radio))
        #expect(radio == RadioConditions(rsrp: -98, sinr: 7, cellId: "21456"))
        #expect(!RadioResources.apply(path: "/4/0/2", payload: Array("strong".utf8), to: &radio))
        #expect(!RadioResources.apply(path: "/4/0/2", payload: [], to: &radio))
        #expect(!RadioResources.apply(path: "/4/0/3", payload: Array("5".utf8), to: &radio))
    }

    @Test func tlvValues() {
        var radio = RadioConditions()
        // Resource 2, 1-byte integer −98 (0x9E); resource 8, 4-byte integer; resource 11, 4-byte float −3.5.
        #expect(RadioResources.apply(path: "/4/0/2", payload: [0xC1, 0x02, 0x9E], to: &radio))
        #expect(RadioResources.apply(path: "/4/0/8", payload: [0xC4, 0x08, 0x00, 0x01, 0x86, 0xA0], to: &radio))
        #expect(RadioResources.apply(path: "/4/0/11", payload: [0xC4, 0x0B, 0xC0, 0x60, 0x00, 0x00], to: &radio))
        #expect(radio == RadioConditions(rsrp: -98, sinr: -4, cellId: "100000"))
        // Length in a following byte (type 0xC8), and a truncated TLV.
        #expect(RadioResources.apply(path: "/4/0/2", payload: [0xC8, 0x02, 0x02, 0xFF, 0x92], to: &radio))
        #expect(radio.rsrp == -110)
        #expect(!RadioResources.apply(path: "/4/0/2", payload: [0xC2, 0x02, 0xFF], to: &radio))
        #expect(!RadioResources.apply(path: "/4/0/2", payload: [0xC8, 0x02], to: &radio))
    }

    /// 8-byte TLV values beyond what an `Int` holds, or not finite, are refused, not trapped on
    /// (found by the lwm2m-registration fuzz target; its reproducer is in
    /// Tests/Fuzz/lwm2m-registration/regressions/).
    @Test func tlvValuesOutOfRangeAreRefused() {
        var radio = RadioConditions(rsrp: -98, sinr: 4, cellId: "1")
        let huge: [UInt8] = [0xC8, 0x0B, 0x08, 0xFF, 0x23, 0, 0, 0, 0, 0, 0]   // SINR −2.4e169
        #expect(!RadioResources.apply(path: "/4/0/11", payload: huge, to: &radio))
        let infinity: [UInt8] = [0xC8, 0x0B, 0x08, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0]
        #expect(!RadioResources.apply(path: "/4/0/11", payload: infinity, to: &radio))
        let maxInt: [UInt8] = [0xC8, 0x02, 0x08, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]   // RSRP Int64.max
        #expect(!RadioResources.apply(path: "/4/0/2", payload: maxInt, to: &radio))
        #expect(!RadioResources.apply(path: "/4/0/8", payload: maxInt, to: &radio))
        #expect(radio == RadioConditions(rsrp: -98, sinr: 4, cellId: "1"))
    }

    @Test func reportProperties() {
        let meter = [ServiceReport(serviceId: "Connectivity", properties: ["signalStrength": -101, "cellId": 4711, "ecl": 1])]
        #expect(RadioResources.fromReport(meter) == RadioConditions(rsrp: -101, cellId: "4711"))
        let named = [ServiceReport(serviceId: "Radio", properties: ["RSRP": .double(-99.6), "SINR": "4", "cell_id": "0x1A2B"])]
        #expect(RadioResources.fromReport(named) == RadioConditions(rsrp: -100, sinr: 4, cellId: "0x1A2B"))
        #expect(RadioResources.fromReport([ServiceReport(serviceId: "Meter", properties: ["value": 1])]) == nil)
    }
}
