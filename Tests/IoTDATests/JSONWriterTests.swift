import Foundation
import GatewayCore
import Testing
@testable import IoTDA

@Suite struct JSONWriterTests {
    @Test func keepsDocumentedFieldOrderAndPropertyOrder() throws {
        let report = PropertiesReport(services: [
            ServiceProperty(serviceId: "Temperature", properties: ["value": 57, "value2": 60], eventTime: "20151212T121212Z"),
            ServiceProperty(serviceId: "Battery", properties: ["level": 80, "level2": 90], eventTime: "20151212T121212Z"),
        ])
        // Byte for byte the example of UG 2.1.2.8.1.
        #expect(String(decoding: try IoTDAJSON.encode(report), as: UTF8.self)
            == #"{"services":[{"service_id":"Temperature","properties":{"value":57,"value2":60},"event_time":"20151212T121212Z"},{"service_id":"Battery","properties":{"level":80,"level2":90},"event_time":"20151212T121212Z"}]}"#)
        let zfirst = ServiceProperty(serviceId: "s", properties: ["z": 1, "a": 2])
        #expect(String(decoding: try IoTDAJSON.encode(PropertiesReport(services: [zfirst])), as: UTF8.self)
            == #"{"services":[{"service_id":"s","properties":{"z":1,"a":2}}]}"#)
    }

    @Test func escapesStrings() throws {
        let tricky = "q\"b\\s/n\nr\rt\t\u{1}\u{1F}é中😀"
        let report = BatchPropertyReport(devices: [DeviceProperties(deviceId: tricky, services: [
            ServiceProperty(serviceId: tricky, properties: JSONObject([(tricky, .string(tricky))])),
        ])])
        let data = try IoTDAJSON.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#"q\"b\\s/n\nr\rt\t\u0001\u001fé中😀"#))
        let back = try JSONDecoder().decode(BatchPropertyReport.self, from: data)
        #expect(back == report)
    }

    @Test func valuesRoundTripThroughFoundation() throws {
        let values: [JSONValue] = [.null, true, false, 0, -1, .int(Int64.max), .int(Int64.min), 1.5, -0.25, 1e-7, 6.02e23,
                                   "", [], [:], [1, "two", [3.5, nil]], ["k": ["n": [true]]]]
        var props = JSONObject()
        for (i, v) in values.enumerated() { props["k\(i)"] = v }
        let report = PropertiesReport(services: [ServiceProperty(serviceId: "s", properties: props)])
        let back = try JSONDecoder().decode(PropertiesReport.self, from: IoTDAJSON.encode(report))
        // Foundation's decoder sorts keys, so compare value by value.
        for (k, v) in props.pairs { #expect(back.services[0].properties[k] == v, "\(k)") }
    }

    @Test func equalValuesGiveEqualBytes() throws {
        let e = EventsMessage(objectDeviceId: "c", .upgradeProgressReport(UpgradeProgress(resultCode: .success, progress: 5, version: "v", description: "d")))
        let first = try IoTDAJSON.encode(e)
        for _ in 0..<20 { #expect(try IoTDAJSON.encode(e) == first) }
    }
}
