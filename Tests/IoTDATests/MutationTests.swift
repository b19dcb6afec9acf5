import Foundation
import Testing
import TestSupport
@testable import IoTDA

/// Mutated document examples thrown at every downlink decoder: each one must end in a value or a
/// typed error. A deterministic generator keeps failures reproducible.
@Suite struct MutationTests {
    static let seeds: [(DownlinkTopic, String)] = [
        (.command(requestId: "1"), #"{"object_device_id":"c1","command_name":"ON_OFF","service_id":"WaterMeter","paras":{"value":"1"}}"#),
        (.propertiesSet(requestId: "1"), #"{"object_device_id":"c1","services":[{"service_id":"Temperature","properties":{"value":57,"value2":60}}]}"#),
        (.propertiesGet(requestId: "1"), #"{"object_device_id":"c1","service_id":"Temperature"}"#),
        (.shadowGetResponse(requestId: "1"), #"{"object_device_id":"c1","shadow":[{"service_id":"WaterMeter","desired":{"properties":{"temperature":"60"},"event_time":"20151212T121212Z"},"version":1}]}"#),
        (.messagesDown, #"{"object_device_id":"c1","name":"name","id":"id","content":"hello"}"#),
        (.eventsDown, #"{"object_device_id":"gw","services":[{"service_id":"$sub_device_manager","event_type":"add_sub_device_notify","event_time":"20151212T121212Z","paras":{"devices":[{"parent_device_id":"gw","node_id":"n1","device_id":"d1","status":"ONLINE"}],"version":1}}]}"#),
        (.eventsDown, #"{"services":[{"service_id":"$ota","event_type":"firmware_upgrade","paras":{"version":"v1.2","url":"https://h/p","file_size":81362928,"access_token":"t","expires":86400,"sign":"ab"}}]}"#),
        (.eventsDown, #"{"services":[{"service_id":"$sub_device_manager","event_type":"add_sub_device_response","event_id":"e","paras":{"successful_devices":[{"device_id":"d","node_id":"n"}],"failed_devices":[{"node_id":"m","product_id":"p","error_code":"X","error_msg":"Y"}]}}]}"#),
    ]

    static let alphabet = Array(#"{}[]":,0123456789.-eE truefalsnul\"#.utf8) + [0x00, 0xFF, 0xC3, 0x80]

    @Test func mutatedExamplesNeverTrap() {
        var rng = SplitMix64(seed: 0xED6E_6E77)
        var decoded = 0
        var refused = 0
        for round in 0..<4000 {
            let (topic, seed) = Self.seeds[round % Self.seeds.count]
            var bytes = Array(seed.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[i] = Self.alphabet.randomElement(using: &rng) ?? 0
                case 1: bytes.remove(at: i)
                case 2: bytes.insert(Self.alphabet.randomElement(using: &rng) ?? 0, at: i)
                default: bytes = Array(bytes.prefix(i))
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            do {
                _ = try DownlinkPayload.decode(topic: topic, payload: Data(bytes))
                decoded += 1
            } catch {
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        // Both outcomes occur: the mutations are neither all harmless nor all fatal.
        #expect(decoded > 100)
        #expect(refused > 1000)
    }

    @Test func missingParas() throws {
        let topics = IoTDATopics(deviceId: "gw")
        let json = #"{"services":[{"service_id":"$ota","event_type":"version_query"},{"service_id":"$ota","event_type":"firmware_upgrade"}]}"#
        guard case .events(let e) = try DownlinkPayload.decode(topic: topics.classify(topics.eventsDown), payload: Data(json.utf8)) else {
            Issue.record("not events"); return
        }
        #expect(e.events.map(\.event) == [.versionQuery])
        #expect(e.errors.map(\.code) == [.missingField(field: "services[1].paras")])
    }
}
