import Foundation
import Testing
@testable import IoTDA

@Suite struct UplinkTests {
    let topics = IoTDATopics(deviceId: "gw_1")

    @Test func classifiesUplinkTopics() throws {
        #expect(try topics.classifyUplink(topics.messagesUp) == .messagesUp)
        #expect(try topics.classifyUplink(topics.propertiesReport) == .propertiesReport)
        #expect(try topics.classifyUplink(topics.gatewayBatchPropertiesReport) == .gatewayBatchPropertiesReport)
        #expect(try topics.classifyUplink(topics.eventsUp) == .eventsUp)
        #expect(try topics.classifyUplink(topics.commandResponse(requestId: "a")) == .commandResponse(requestId: "a"))
        #expect(try topics.classifyUplink(topics.propertiesSetResponse(requestId: "b")) == .propertiesSetResponse(requestId: "b"))
        #expect(try topics.classifyUplink(topics.propertiesGetResponse(requestId: "c")) == .propertiesGetResponse(requestId: "c"))
        #expect(try topics.classifyUplink(topics.shadowGet(requestId: "d")) == .shadowGet(requestId: "d"))
        #expect(try topics.classifyUplink(topics.shadowGetResponse(requestId: "d")) == .unknown(path: "sys/shadow/get/response/request_id=d"))
        #expect(try topics.classifyUplink(topics.custom("x/y")) == .custom(name: "x/y"))
        #expect(throws: TopicError.self) { try topics.classifyUplink("\(topics.root)/sys/commands/response/request_id=") }
        #expect(throws: TopicError.self) { try topics.classifyUplink("$oc/devices/other/sys/events/up") }
        #expect(IoTDATopics.deviceId(ofTopic: "$oc/devices/60a_node_1/sys/events/up") == "60a_node_1")
        #expect(IoTDATopics.deviceId(ofTopic: "$oc/devices//sys") == nil)
        #expect(IoTDATopics.deviceId(ofTopic: "devices/x/sys") == nil)
    }

    func check(_ topic: String, _ json: String) -> PayloadError.Code? {
        do { _ = try UplinkPayload.decode(topic: topics.classifyUplink(topic), payload: Data(json.utf8)); return nil }
        catch let e as PayloadError { return e.code } catch { return .malformedJSON }
    }

    @Test func validatesLimitsLikeThePlatform() throws {
        let hundredOne = (0..<101).map { #"{"device_id":"c\#($0)","services":[]}"# }.joined(separator: ",")
        #expect(check(topics.gatewayBatchPropertiesReport, #"{"devices":[\#(hundredOne)]}"#) == .limitExceeded(field: "devices", limit: 100, actual: 101))
        #expect(check(topics.gatewayBatchPropertiesReport, #"{"devices":[{"device_id":"c","services":[]}]}"#) == nil)
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","paras":{"device_statuses":[]}}]}"#)
            == .limitExceeded(field: "device_statuses", limit: 100, actual: 0))
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","paras":{"device_statuses":[{"device_id":"d","status":"SLEEPING"}]}}]}"#)
            == .wrongType(field: "services[0].paras.device_statuses[0].status"))
        let fiftyOne = (0..<51).map { "\"d\($0)\"" }.joined(separator: ",")
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$sub_device_manager","event_type":"delete_sub_device_request","paras":{"devices":[\#(fiftyOne)]}}]}"#)
            == .limitExceeded(field: "devices", limit: 50, actual: 51))
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$sub_device_manager","event_type":"add_sub_device_request","paras":{"devices":[{"node_id":"n"}]}}]}"#)
            == .missingField(field: "services[0].paras.devices[0].product_id"))
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#)
            == .unexpectedDirection(serviceId: "$ota", eventType: "version_query"))
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":0,"progress":101,"version":"v"}}]}"#)
            == .limitExceeded(field: "progress", limit: 100, actual: 101))
        #expect(check(topics.eventsUp, #"{"services":[{"service_id":"$ota","event_type":"frobnicate","paras":{}}]}"#)
            == .unknownEvent(serviceId: "$ota", eventType: "frobnicate"))
        #expect(check(topics.commandResponse(requestId: "1"), #"{"result_code":"0"}"#) == .wrongType(field: "result_code"))
    }

    @Test func whatTheGatewaySendsPassesItsOwnValidation() throws {
        let statuses = SubDeviceStatusUpdate.split((0..<250).map { DeviceStatus(deviceId: "d\($0)", status: .online) })
        for update in statuses {
            let p = try topics.publication(EventsMessage(.subDeviceUpdateStatus(update), at: Date()))
            _ = try UplinkPayload.decode(topic: topics.classifyUplink(p.topic), payload: p.payload)
        }
        let adds = AddSubDeviceRequest.split((0..<120).map { NewSubDevice(nodeId: "n\($0)", productId: "p") })
        for request in adds {
            let p = try topics.publication(EventsMessage(objectDeviceId: "gw_1", .addSubDeviceRequest(request), at: Date(), eventId: UUID().uuidString))
            _ = try UplinkPayload.decode(topic: topics.classifyUplink(p.topic), payload: p.payload)
        }
        let reports = BatchPropertyReport.split((0..<333).map { DeviceProperties(deviceId: "c\($0)", services: [ServiceProperty(serviceId: "s", properties: ["v": 1])]) })
        #expect(reports.count == 4)
        for report in reports {
            let p = try topics.publication(report)
            guard case .batchReport(let back) = try UplinkPayload.decode(topic: topics.classifyUplink(p.topic), payload: p.payload) else {
                Issue.record("not a batch report"); continue
            }
            #expect(back == report)
        }
    }
}
