import Foundation
import TestSupport
import Testing
@testable import CloudLink

/// scripts/scripted_platform.py on a real broker, driven through a real session.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ScriptedPlatformTests {
    private func event(_ type: String, eventId: String? = nil, paras: String) -> [UInt8] {
        let id = eventId.map { ",\"event_id\":\"\($0)\"" } ?? ""
        return Array("{\"services\":[{\"service_id\":\"$sub_device_manager\",\"event_type\":\"\(type)\"\(id),\"paras\":\(paras)}]}".utf8)
    }

    @Test func answersSubDeviceRequestsSendsCommandsAndFlagsViolations() async throws {
        try #require(Paths.hasProgram("python3"))
        let identity = TestIdentity()
        let platformPassword = "platform-" + UUID().uuidString
        let broker = try await MosquittoBroker(users: [identity.brokerUser, .platform(password: platformPassword)])
        try await broker.start()
        defer { broker.stop() }
        let platform = try MosquittoScriptedPlatform(broker: broker, password: platformPassword)
        defer { platform.stop() }
        #expect(await platform.waitUntilConnected(), "\(platform.text)")

        let settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain,
                                            subscriptions: [identity.topic("events/down"), identity.topic("commands/#")])
        let device = RunningSession(CloudSession(settings: settings) { identity.credentials })
        #expect(await Eventually.wait { device.isConnected() })
        let incoming = MessageCollector(device.session.incoming)

        // add request -> add response with the same event_id and the platform's device_id rule.
        _ = try device.session.publish(topic: identity.topic("events/up"), payload: event(
            "add_sub_device_request", eventId: "ev-1",
            paras: "{\"devices\":[{\"node_id\":\"meter1\",\"product_id\":\"prod\"}]}"))
        let added = try #require(await incoming.message(0))
        let addText = String(decoding: added.payload, as: UTF8.self)
        #expect(added.topic == identity.topic("events/down"))
        #expect(addText.contains("add_sub_device_response") && addText.contains("ev-1") && addText.contains("prod_meter1"))

        // sync from version 0 -> add notify with what was added.
        _ = try device.session.publish(topic: identity.topic("events/up"), payload: event("sub_device_sync_request", paras: "{\"version\":0}"))
        let synced = String(decoding: try #require(await incoming.message(1)).payload, as: UTF8.self)
        #expect(synced.contains("add_sub_device_notify") && synced.contains("prod_meter1") && synced.contains("\"version\":1"))

        // delete request -> delete response.
        _ = try device.session.publish(topic: identity.topic("events/up"), payload: event(
            "delete_sub_device_request", eventId: "ev-2", paras: "{\"devices\":[\"prod_meter1\"]}"))
        let deleted = String(decoding: try #require(await incoming.message(2)).payload, as: UTF8.self)
        #expect(deleted.contains("delete_sub_device_response") && deleted.contains("ev-2"))

        // A command the test tells the platform to send.
        platform.send(#"{"command": {"device_id": "\#(identity.deviceId)", "object_device_id": "prod_meter1", "service_id": "relay", "command_name": "on", "paras": {}, "request_id": "r-9"}}"#)
        let command = try #require(await incoming.message(3))
        #expect(command.topic == identity.topic("commands/request_id=r-9"))
        #expect(String(decoding: command.payload, as: UTF8.self).contains("prod_meter1"))

        // 101 children in one batch report is against the rules: recorded with a problem.
        let devices = (0..<101).map { "{\"device_id\":\"d\($0)\",\"services\":[]}" }.joined(separator: ",")
        _ = try device.session.publish(topic: identity.topic("gateway/sub_devices/properties/report"),
                                       payload: Array("{\"devices\":[\(devices)]}".utf8))
        #expect(await Eventually.wait { platform.records.count == 4 })
        let records = platform.records
        #expect(records.prefix(3).allSatisfy { $0.problems.isEmpty })
        #expect(records.last?.problems.first?.contains("101 children") == true)
        await device.stop()
    }
}
