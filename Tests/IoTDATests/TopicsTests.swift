import Testing
@testable import IoTDA

@Suite struct TopicsTests {
    let topics = IoTDATopics(deviceId: "60a87ffebaccd902c2f1abbb_gw01")

    @Test func everyTopicOfTheTable() throws {
        let r = "$oc/devices/60a87ffebaccd902c2f1abbb_gw01"
        #expect(topics.messagesUp == "\(r)/sys/messages/up")
        #expect(topics.messagesDown == "\(r)/sys/messages/down")
        #expect(topics.command(requestId: "abc") == "\(r)/sys/commands/request_id=abc")
        #expect(topics.commandResponse(requestId: "abc") == "\(r)/sys/commands/response/request_id=abc")
        #expect(topics.propertiesReport == "\(r)/sys/properties/report")
        #expect(topics.gatewayBatchPropertiesReport == "\(r)/sys/gateway/sub_devices/properties/report")
        #expect(topics.propertiesSet(requestId: "1") == "\(r)/sys/properties/set/request_id=1")
        #expect(topics.propertiesSetResponse(requestId: "1") == "\(r)/sys/properties/set/response/request_id=1")
        #expect(topics.propertiesGet(requestId: "2") == "\(r)/sys/properties/get/request_id=2")
        #expect(topics.propertiesGetResponse(requestId: "2") == "\(r)/sys/properties/get/response/request_id=2")
        #expect(topics.shadowGet(requestId: "3") == "\(r)/sys/shadow/get/request_id=3")
        #expect(topics.shadowGetResponse(requestId: "3") == "\(r)/sys/shadow/get/response/request_id=3")
        #expect(topics.eventsUp == "\(r)/sys/events/up")
        #expect(topics.eventsDown == "\(r)/sys/events/down")
        #expect(try topics.custom("data/up") == "\(r)/user/data/up")
    }

    @Test func subscriptions() {
        let r = "$oc/devices/60a87ffebaccd902c2f1abbb_gw01/sys"
        #expect(topics.downlinkSubscriptions == [
            "\(r)/commands/#", "\(r)/properties/set/#", "\(r)/properties/get/#", "\(r)/shadow/get/response/#",
            "\(r)/messages/down", "\(r)/events/down",
        ])
    }

    @Test func classifiesDownlinkTopics() throws {
        let uuid = "b1224afb-e9f0-4916-8220-b6bab568e888"
        #expect(try topics.classify(topics.command(requestId: uuid)) == .command(requestId: uuid))
        #expect(try topics.classify(topics.propertiesSet(requestId: "7")) == .propertiesSet(requestId: "7"))
        #expect(try topics.classify(topics.propertiesGet(requestId: "8")) == .propertiesGet(requestId: "8"))
        #expect(try topics.classify(topics.shadowGetResponse(requestId: "9")) == .shadowGetResponse(requestId: "9"))
        #expect(try topics.classify(topics.messagesDown) == .messagesDown)
        #expect(try topics.classify(topics.eventsDown) == .eventsDown)
        #expect(try topics.classify(topics.custom("cmd/down")) == .custom(name: "cmd/down"))
        #expect(try topics.classify(topics.command(requestId: uuid)).requestId == uuid)
    }

    @Test func requestIdIsEchoedVerbatim() throws {
        // Opaque: whatever follows request_id= comes back unchanged in the response topic.
        for id in ["1", "a=b", "x/y", "ünïcode", String(repeating: "z", count: 300)] {
            let kind = try topics.classify(topics.command(requestId: id))
            #expect(kind == .command(requestId: id))
            #expect(topics.commandResponse(requestId: try #require(kind.requestId)).hasSuffix("request_id=\(id)"))
        }
    }

    @Test func ourOwnUplinkTopicsAreUnknownNotCommands() throws {
        #expect(try topics.classify(topics.commandResponse(requestId: "1")) == .unknown(path: "sys/commands/response/request_id=1"))
        #expect(try topics.classify(topics.propertiesSetResponse(requestId: "1")) == .unknown(path: "sys/properties/set/response/request_id=1"))
        #expect(try topics.classify(topics.eventsUp) == .unknown(path: "sys/events/up"))
        #expect(try topics.classify("\(topics.root)/sys/something/new") == .unknown(path: "sys/something/new"))
    }

    @Test func malformedTopicsGiveTypedErrors() {
        func code(_ t: String) -> TopicError.Code? {
            do { _ = try topics.classify(t); return nil } catch { return error.code }
        }
        #expect(code("") == .empty)
        #expect(code("$oc/devices/other_gw/sys/messages/down") == .foreignDevice)
        #expect(code("$oc/devices/60a87ffebaccd902c2f1abbb_gw01") == .foreignDevice)
        // A device id that merely starts with ours is someone else.
        #expect(code("$oc/devices/60a87ffebaccd902c2f1abbb_gw01x/sys/messages/down") == .foreignDevice)
        #expect(code("\(topics.root)/sys/commands/") == .missingRequestId)
        #expect(code("\(topics.root)/sys/commands/request_id=") == .missingRequestId)
        #expect(code("\(topics.root)/sys/commands/requestid=1") == .missingRequestId)
        #expect(code("\(topics.root)/sys/properties/set/1") == .missingRequestId)
        #expect(code("\(topics.root)/sys/shadow/get/response/") == .missingRequestId)
        #expect(code(topics.root + "/" + String(repeating: "x", count: 70_000)) == .tooLong)
        #expect(code("/\u{0}/#/+") == .foreignDevice)
    }

    @Test func customTopicNames() {
        #expect(IoTDATopics.customTopicLengths == 1...64)
        #expect(IoTDATopics.maxCustomTopicsPerProduct == 10)
        #expect((try? topics.custom(String(repeating: "a", count: 64))) != nil)
        for bad in ["", String(repeating: "a", count: 65), "a//b", "a-b", "a+b", "a#"] {
            #expect(throws: TopicError.self, "\(bad)") { try topics.custom(bad) }
        }
    }
}

@Suite struct PublicationTests {
    let topics = IoTDATopics(deviceId: "gw_1")

    @Test func pairsTopicAndPayload() throws {
        let report = try topics.publication(BatchPropertyReport(devices: [DeviceProperties(deviceId: "c", services: [])]))
        #expect(report.topic == "$oc/devices/gw_1/sys/gateway/sub_devices/properties/report")
        #expect(String(decoding: report.payload, as: UTF8.self) == #"{"devices":[{"device_id":"c","services":[]}]}"#)
        let response = try topics.publication(requestId: "r/9", CommandResponse(resultCode: 1, resultDesc: "unknown child"))
        #expect(response.topic == "$oc/devices/gw_1/sys/commands/response/request_id=r/9")
        #expect(String(decoding: response.payload, as: UTF8.self) == #"{"result_code":1,"result_desc":"unknown child"}"#)
        #expect(try topics.publication(requestId: "7", PropertiesSetResponse()).topic.hasSuffix("/sys/properties/set/response/request_id=7"))
        #expect(try topics.publication(requestId: "8", PropertiesGetResponse(services: [])).topic.hasSuffix("/sys/properties/get/response/request_id=8"))
        #expect(try topics.publication(requestId: "9", ShadowGetRequest(objectDeviceId: "c")).topic.hasSuffix("/sys/shadow/get/request_id=9"))
        #expect(try topics.publication(EventsMessage(services: [])).topic.hasSuffix("/sys/events/up"))
        #expect(try topics.publication(MessageUp(content: "x")).topic.hasSuffix("/sys/messages/up"))
        #expect(try topics.publication(PropertiesReport(services: [])).topic.hasSuffix("/sys/properties/report"))
    }
}

@Suite struct FailureResponseTests {
    let topics = IoTDATopics(deviceId: "gw_1")

    @Test func answersEveryRequestTopic() throws {
        let c = try #require(try topics.failureResponse(to: .command(requestId: "r1"), code: .unknownChild, description: "unknown child c_9"))
        #expect(c.topic == "$oc/devices/gw_1/sys/commands/response/request_id=r1")
        #expect(String(decoding: c.payload, as: UTF8.self) == #"{"result_code":1,"result_desc":"unknown child c_9"}"#)
        let s = try #require(try topics.failureResponse(to: .propertiesSet(requestId: "r2"), code: .badRequest, description: "bad"))
        #expect(s.topic == "$oc/devices/gw_1/sys/properties/set/response/request_id=r2")
        #expect(String(decoding: s.payload, as: UTF8.self) == #"{"result_code":3,"result_desc":"bad"}"#)
        let g = try #require(try topics.failureResponse(to: .propertiesGet(requestId: "r3"), code: .timeout, description: "late"))
        #expect(g.topic == "$oc/devices/gw_1/sys/properties/get/response/request_id=r3")
        #expect(String(decoding: g.payload, as: UTF8.self) == #"{"result_code":6,"result_desc":"late"}"#)
        for t: DownlinkTopic in [.messagesDown, .eventsDown, .shadowGetResponse(requestId: "x"), .custom(name: "a"), .unknown(path: "b")] {
            #expect(try topics.failureResponse(to: t, code: .badRequest, description: "x") == nil)
        }
    }
}
