import Foundation
import GatewayCore
import Testing
@testable import IoTDA

/// Hostile and broken input from the cloud: every case ends in a typed error, never a trap.
@Suite struct DownlinkDecodingTests {
    let topics = IoTDATopics(deviceId: "gw_1")

    func decode(_ topic: String, _ payload: String, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) throws -> DownlinkPayload {
        try DownlinkPayload.decode(topic: topics.classify(topic), payload: Data(payload.utf8), limit: limit)
    }

    func payloadError(_ topic: String, _ payload: String, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) -> PayloadError.Code? {
        do { _ = try decode(topic, payload, limit: limit); return nil } catch let e as PayloadError { return e.code } catch { return nil }
    }

    @Test func commandForAChild() throws {
        let p = try decode(topics.command(requestId: "r-1"), #"{"object_device_id":"child_7","command_name":"ON_OFF","paras":{"value":"1"}}"#)
        #expect(p.objectDeviceId == "child_7")
        guard case .command(let id, let c) = p else { Issue.record("not a command"); return }
        #expect(id == "r-1" && c.commandName == "ON_OFF")
        // Without object_device_id the command is for the gateway itself.
        #expect(try decode(topics.command(requestId: "r-2"), #"{"command_name":"reboot"}"#).objectDeviceId == nil)
    }

    @Test func malformedJSON() {
        for bad in ["", "{", "{\"command_name\":}", "nul", "\u{FF}\u{FE}", String(repeating: "[", count: 100_000)] {
            #expect(payloadError(topics.command(requestId: "1"), bad) == .malformedJSON, "\(bad.prefix(20))")
        }
        #expect(payloadError(topics.eventsDown, "{]") == .malformedJSON)
        #expect(payloadError(topics.messagesDown, "]") == .malformedJSON)
    }

    @Test func notAnObject() {
        #expect(payloadError(topics.command(requestId: "1"), "[1,2]") == .notAnObject)
        #expect(payloadError(topics.propertiesSet(requestId: "1"), "\"text\"") == .notAnObject)
        #expect(payloadError(topics.eventsDown, "42") == .notAnObject)
    }

    @Test func wrongTypes() {
        #expect(payloadError(topics.command(requestId: "1"), #"{"command_name":5}"#) == .wrongType(field: "command_name"))
        #expect(payloadError(topics.command(requestId: "1"), #"{"paras":"value=1"}"#) == .wrongType(field: "paras"))
        #expect(payloadError(topics.command(requestId: "1"), #"{"object_device_id":["a"]}"#) == .wrongType(field: "object_device_id"))
        #expect(payloadError(topics.propertiesSet(requestId: "1"), #"{"services":{"service_id":"a"}}"#) == .wrongType(field: "services"))
        #expect(payloadError(topics.propertiesSet(requestId: "1"), #"{"services":[{"service_id":"a","properties":[1]}]}"#) == .wrongType(field: "services[0].properties"))
        #expect(payloadError(topics.propertiesGet(requestId: "1"), #"{"service_id":true}"#) == .wrongType(field: "service_id"))
        #expect(payloadError(topics.shadowGetResponse(requestId: "1"), #"{"object_device_id":"x","shadow":[{"service_id":"s","version":"one"}]}"#) == .wrongType(field: "shadow[0].version"))
    }

    @Test func missingFields() {
        #expect(payloadError(topics.propertiesSet(requestId: "1"), #"{"services":[{"properties":{}}]}"#) == .missingField(field: "services[0].service_id"))
        #expect(payloadError(topics.propertiesSet(requestId: "1"), #"{}"#) == .missingField(field: "services"))
        #expect(payloadError(topics.messagesDown, #"{"name":"n"}"#) == .missingField(field: "content"))
        #expect(payloadError(topics.shadowGetResponse(requestId: "1"), #"{"shadow":[]}"#) == .missingField(field: "object_device_id"))
    }

    @Test func oversizedPayloadIsNotParsed() {
        let big = #"{"command_name":""# + String(repeating: "x", count: IoTDAJSON.maxDownlinkPayloadBytes) + #""}"#
        #expect(payloadError(topics.command(requestId: "1"), big) == .oversized(size: big.utf8.count, limit: IoTDAJSON.maxDownlinkPayloadBytes))
        #expect(payloadError(topics.eventsDown, "{}", limit: 1) == .oversized(size: 2, limit: 1))
        #expect(payloadError((try? topics.custom("raw")) ?? "", "abc", limit: 2) == .oversized(size: 3, limit: 2))
        #expect(IoTDAJSON.maxDownlinkPayloadBytes == 1_048_576)
    }

    @Test func unknownAndMisdirectedEventsSpareTheRest() throws {
        let json = #"""
        {"object_device_id":"child_1","services":[
          {"service_id":"$ota","event_type":"version_query","paras":{}},
          {"service_id":"$ota","event_type":"teleport","paras":{}},
          {"service_id":"$sub_device_manager","event_type":"sub_device_update_status","paras":{"device_statuses":[]}},
          {"service_id":"$sub_device_manager","event_type":"add_sub_device_notify","paras":{"devices":[],"version":"seven"}},
          {"service_id":"$sub_device_manager","event_type":"delete_sub_device_notify","paras":{"devices":[]}},
          {"service_id":"$time_sync","event_type":"time_sync_response","paras":{"device_send_time":1,"server_rcv_time":2,"server_send_time":3}},
          {"event_type":"x"},
          17,
          {"service_id":"Alarm","event_type":"overheat","paras":{"t":1}}
        ]}
        """#
        guard case .events(let e) = try decode(topics.eventsDown, json) else { Issue.record("not events"); return }
        #expect(e.objectDeviceId == "child_1")
        #expect(e.items.count == 9)
        #expect(e.events.map(\.event.eventType) == ["version_query", "time_sync_response", "overheat"])
        #expect(e.errors.map(\.code) == [
            .unknownEvent(serviceId: "$ota", eventType: "teleport"),
            .unexpectedDirection(serviceId: "$sub_device_manager", eventType: "sub_device_update_status"),
            .wrongType(field: "services[3].paras.version"),
            .missingField(field: "services[4].paras.version"),
            .missingField(field: "services[6].service_id"),
            .wrongType(field: "services[7]"),
        ])
    }

    @Test func eventsEnvelopeErrors() {
        #expect(payloadError(topics.eventsDown, #"{"services":{}}"#) == .wrongType(field: "services"))
        // No services at all is an empty message, not an error.
        #expect((try? decode(topics.eventsDown, #"{}"#)) == .events(DownlinkEvents(objectDeviceId: nil, items: [])))
    }

    @Test func messageContentMayBeTextOrJSON() throws {
        #expect(try decode(topics.messagesDown, #"{"content":"hello"}"#) == .message(MessageDown(content: "hello")))
        #expect(try decode(topics.messagesDown, #"{"content":{"a":[1,2]}}"#) == .message(MessageDown(content: ["a": [1, 2]])))
    }

    @Test func customAndUnknownTopics() throws {
        #expect(try decode(try topics.custom("cfg/down"), "\u{1}\u{2}") == .custom(name: "cfg/down", payload: Data([1, 2])))
        #expect(try decode("\(topics.root)/sys/future/thing", "{") == .unknown(path: "sys/future/thing"))
    }

    @Test func errorCodesMayBeNumbers() throws {
        let json = #"{"services":[{"service_id":"$sub_device_manager","event_type":"delete_sub_device_response","event_id":"e","paras":{"successful_devices":[],"failed_devices":[{"device_id":"d","error_code":40401,"error_msg":"not found"}]}}]}"#
        guard case .events(let e) = try decode(topics.eventsDown, json),
              case .deleteSubDeviceResponse(let r) = try #require(e.events.first).event else { Issue.record("wrong"); return }
        #expect(r.failedDevices.first?.errorCode == "40401")
    }

    @Test func deepNestingInPropertiesDoesNotTrap() {
        let deep = #"{"services":[{"service_id":"s","properties":{"a":"# + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "}}]}"
        // Either parsed or refused with a typed error; reaching this line is the point.
        let result = payloadError(topics.propertiesSet(requestId: "1"), deep)
        #expect(result == nil || result == .malformedJSON)
    }
}
