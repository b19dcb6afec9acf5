import Foundation
import GatewayCore
import Testing
@testable import IoTDA

/// Issue 11, items 7 and 8: what a property report carries on the wire.
@Suite struct UplinkPayloadTests {
    func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try IoTDAJSON.encode(value), as: UTF8.self) }

    // MARK: - Item 7

    @Test func integersOutsideInt64GoOutAsExactJSONIntegers() throws {
        // A property set or a decoded value may carry any uint64; it must leave as written.
        let service = try JSONDecoder().decode(ServiceProperty.self, from: Data(
            #"{"service_id":"Energy","properties":{"total":18446744073709551615,"low":9223372036854775808,"min":-9223372036854775808,"max":9223372036854775807}}"#.utf8))
        let report = BatchPropertyReport(devices: [DeviceProperties(deviceId: "d1", services: [service])])
        let wire = try text(report)
        #expect(wire.contains(#""total":18446744073709551615"#), "\(wire)")
        #expect(wire.contains(#""low":9223372036854775808"#), "\(wire)")
        #expect(wire.contains(#""min":-9223372036854775808"#), "\(wire)")
        #expect(wire.contains(#""max":9223372036854775807"#), "\(wire)")
        #expect(!wire.contains("e+"), "\(wire)")
        // The same through the Codable path (responses, events).
        let viaEncoder = try text(PropertiesGetResponse(services: [service]))
        #expect(viaEncoder.contains(#""total":18446744073709551615"#), "\(viaEncoder)")
    }

    // MARK: - Item 8

    @Test func propertyEventTimeHasMillisecondsSoConsecutiveReportsDiffer() throws {
        let start = Date(timeIntervalSince1970: 1_597_234_332.333) // 2020-08-12T12:12:12.333Z
        let one = ServiceProperty(ServiceReport(serviceId: "Energy", properties: ["v": 1], eventTime: start))
        #expect(one.eventTime == "2020-08-12T12:12:12.333Z")
        // Ten readings 50 ms apart: ten distinct event_times.
        let times = (0..<10).map { i in
            ServiceProperty(ServiceReport(serviceId: "Energy", properties: ["v": .int(Int64(i))],
                                          eventTime: start.addingTimeInterval(0.05 * Double(i)))).eventTime
        }
        #expect(Set(times).count == 10, "\(times)")
        // The platform reads it back to the millisecond.
        let parsed = try #require(one.eventTime.flatMap(IoTDATime.parse))
        #expect(abs(parsed.timeIntervalSince(start)) < 0.001)
    }

    @Test func aPropertyGetResponseKeepsTheSecondFormTheDocumentsGiveIt() {
        let start = Date(timeIntervalSince1970: 1_597_234_332.333)
        let answer = ServiceProperty(ServiceReport(serviceId: "Energy", properties: ["v": 1], eventTime: start), timeFormat: .seconds)
        #expect(answer.eventTime == "20200812T121212Z")
    }

    @Test func exactIntegersRoundTripAndStayDistinctFromDoubles() throws {
        #expect(JSONValue.integer(UInt64.max) == .uint(UInt64.max))
        #expect(JSONValue.integer(5) == .int(5))
        #expect(JSONValue.uint(UInt64.max).doubleValue == Double(UInt64.max))
        #expect(JSONValue.uint(UInt64.max).intValue == nil)
        #expect(JSONValue.uint(UInt64.max).typeName == "integer")
        let back = try JSONDecoder().decode(JSONValue.self, from: Data("18446744073709551615".utf8))
        #expect(back == .uint(UInt64.max))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("18446744073709551616".utf8)) == .double(1.8446744073709552e19))
        var w = JSONWriter()
        w.value(.array([.uint(UInt64.max), .int(-1), .double(0.5)]))
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[18446744073709551615,-1,0.5]")
    }

    // MARK: - Item 9

    @Test func repeatedServicesOfAPropertySetAreMergedLastValueWins() throws {
        let one = ServiceProperty(serviceId: "Energy", properties: ["setpoint": 7])
        let request = PropertiesSetRequest(objectDeviceId: "d1", services: Array(repeating: one, count: 499) + [
            ServiceProperty(serviceId: "Relay", properties: ["on": true]),
            ServiceProperty(serviceId: "Energy", properties: ["setpoint": 8, "limit": 3]),
        ])
        #expect(try request.mergedServices() == [
            ServiceProperty(serviceId: "Energy", properties: ["setpoint": 8, "limit": 3]),
            ServiceProperty(serviceId: "Relay", properties: ["on": true]),
        ])
    }

    @Test func aPropertySetMayWriteAtMostMaxPropertiesAfterMerging() throws {
        func request(_ n: Int) -> PropertiesSetRequest {
            PropertiesSetRequest(services: (0..<n).map { ServiceProperty(serviceId: "S\($0 % 7)", properties: JSONObject([("p\($0)", .int(1))])) })
        }
        #expect(try request(PropertiesSetRequest.maxProperties).mergedServices().reduce(0) { $0 + $1.properties.count } == PropertiesSetRequest.maxProperties)
        #expect(throws: PayloadError.self) { try request(PropertiesSetRequest.maxProperties + 1).mergedServices() }
        do {
            _ = try request(PropertiesSetRequest.maxProperties + 1).mergedServices()
        } catch {
            #expect(error.code == .limitExceeded(field: "services[].properties", limit: 100, actual: 101))
            #expect(error.description.contains("at most 100"))
        }
    }
}
