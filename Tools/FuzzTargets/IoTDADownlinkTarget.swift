import Foundation
import GatewayCore
import IoTDA

/// `iotda-downlink`: what the platform publishes to the gateway, decoded as the cloud bridge
/// decodes it. The first byte chooses the topic: a command, a property set, a property get, a
/// shadow response, a message, events (with the `$ota` notices and the sub-device
/// notifications), a topic of the input's own (its first line, classified under the gateway's
/// root, then the payload), or the JSON reader alone. The rest is the payload.
///
/// Properties: a decoded request re-encodes (the gateway's own JSON writer) to JSON that decodes
/// to the same value, and writing that again gives the same bytes; a property set merges within
/// its bound; every `$ota` notice that fails its checks is answered with a valid report; a topic
/// classified as a request carries a non-empty request id it came with.
enum IoTDADownlinkTarget {
    static let target = FuzzTarget(
        name: "iotda-downlink", maxInputBytes: 16_384,
        summary: "IoTDATopics.classify, DownlinkPayload.decode (commands, properties, shadow, messages, events), OTADownlink; JSON round trips",
        run: run)

    static let topics = IoTDATopics(deviceId: "fuzz_gateway")

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let choice = input.byte() % 8
        let topic: DownlinkTopic
        switch choice {
        case 0: topic = .command(requestId: "1")
        case 1: topic = .propertiesSet(requestId: "2")
        case 2: topic = .propertiesGet(requestId: "3")
        case 3: topic = .shadowGetResponse(requestId: "4")
        case 4: topic = .messagesDown
        case 5: topic = .eventsDown
        case 6:
            let name = String(decoding: input.field(until: UInt8(ascii: "\n")), as: UTF8.self)
            guard let classified = classify(name) else { return }
            topic = classified
        default:
            json(input.takeRest())
            return
        }
        decode(topic, Data(input.takeRest()))
    }

    static func classify(_ name: String) -> DownlinkTopic? {
        let topic: DownlinkTopic
        do {
            topic = try topics.classify(name)
        } catch {
            _ = error.description
            return nil
        }
        if let id = topic.requestId {
            FuzzCheck.require(!id.isEmpty && name.hasSuffix("request_id=" + id), "\(name) classified with request id \(id)")
        }
        return topic
    }

    static func decode(_ topic: DownlinkTopic, _ payload: Data) {
        let decoded: DownlinkPayload
        do {
            decoded = try DownlinkPayload.decode(topic: topic, payload: payload)
        } catch {
            FuzzCheck.require(!error.description.isEmpty, "a refusal without a reason")
            _ = try? topics.failureResponse(to: topic, code: .badRequest, description: "bad request: \(error)")
            return
        }
        _ = decoded.objectDeviceId
        switch decoded {
        case .command(let id, let request):
            _ = request.childCommand(requestId: id, nodeId: "child")
            roundTrip(request)
        case .propertiesSet(_, let request):
            if let merged = try? request.mergedServices() {
                let count = merged.reduce(0) { $0 + $1.properties.count }
                FuzzCheck.require(count <= PropertiesSetRequest.maxProperties && Set(merged.map(\.serviceId)).count == merged.count,
                                  "a property set merged to \(count) properties in \(merged.count) services")
                for service in merged {
                    _ = service.serviceReport
                    if let time = service.eventTime { timeRoundTrip(time) }
                }
            }
            roundTrip(request)
        case .propertiesGet(_, let request):
            roundTrip(request)
        case .shadowGetResponse(_, let response):
            roundTrip(response)
        case .message(let message):
            roundTrip(message)
        case .events(let events):
            _ = events.errors.map(\.description)
            for event in events.events {
                roundTrip(event)
                if let time = event.eventTime { timeRoundTrip(time) }
                switch event.event {
                case .logConfig(let config):
                    _ = (config.isOn, config.endDate)
                    if let time = config.endTime { timeRoundTrip(time) }
                case .timeSyncResponse(let response): _ = response.deviceTime(receivedAt: .max)
                default: break
                }
            }
            ota(payload)
        case .custom(_, let body):
            FuzzCheck.require(body == payload, "a custom topic's payload changed")
        case .unknown:
            break
        }
    }

    /// The `$ota` notices of an events payload, each checked on its own; a bad one is answered.
    static func ota(_ payload: Data) {
        guard let downlink = try? OTADownlink.decode(payload) else { return }
        for item in downlink.items {
            FuzzCheck.require(OTANotice.eventTypes.contains(item.eventType), "$ota item of type \(item.eventType)")
            switch item.result {
            case .success(.upgrade(let notice)):
                _ = (notice.version, notice.url, notice.expires)
            case .success(.versionQuery):
                break
            case .failure(let error):
                let reply = error.reply(currentVersion: "1.0")
                do {
                    try reply.validate()
                } catch {
                    FuzzCheck.fail("the answer to a bad $ota notice is refused: \(error)")
                }
                let message = error.reply(child: "child", currentVersion: "1.0", at: Date(timeIntervalSince1970: 0))
                FuzzCheck.require((try? IoTDAJSON.encode(message)) != nil, "the answer to a bad $ota notice does not encode")
            }
        }
    }

    /// A time the platform wrote reads back as the same text once formatted again, in the form
    /// it came in (`yyyyMMdd'T'HHmmss'Z'`, or ISO 8601 with or without milliseconds).
    static func timeRoundTrip(_ text: String) {
        guard let date = IoTDATime.parse(text) else { return }
        let again: String
        switch text.utf8.count {
        case 16: again = IoTDATime.eventTime(date)
        case 20: again = String(IoTDATime.eventTimeMillis(date).prefix(19)) + "Z"
        default: again = IoTDATime.eventTimeMillis(date)
        }
        FuzzCheck.require(again == text, "event time \(text) reads as \(date), written again as \(again)")
    }

    /// The JSON reader on its own: any value, then the `$ota` reader's view of it.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? IoTDAJSON.decode(JSONValue.self, from: Data(bytes)) else { return }
        roundTrip(value)
        _ = try? OTADownlink.decode(Data(bytes))
    }

    /// Encoded with the gateway's writer, the value decodes back; once through, it is stable:
    /// numbers may change form on the first pass (-0 reads back as the integer 0), never after.
    static func roundTrip<T: Codable & Equatable>(_ value: T) {
        guard let first = try? IoTDAJSON.encode(value) else { FuzzCheck.fail("\(value) does not encode") }
        guard let once = try? IoTDAJSON.decode(T.self, from: first, limit: .max) else {
            FuzzCheck.fail("\(T.self) encoded as \(String(decoding: first, as: UTF8.self)) does not decode")
        }
        guard let second = try? IoTDAJSON.encode(once), let twice = try? IoTDAJSON.decode(T.self, from: second, limit: .max) else {
            FuzzCheck.fail("\(T.self) \(once) does not encode and decode again")
        }
        FuzzCheck.require(twice == once && (try? IoTDAJSON.encode(twice)) == second,
                          "\(T.self) \(String(decoding: first, as: UTF8.self)) -> \(String(decoding: second, as: UTF8.self)) is not stable")
    }
}
