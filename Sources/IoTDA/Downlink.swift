import Foundation
import GatewayCore

/// A downlink publish, decoded by its topic. The session classifies the topic first
/// (`IoTDATopics.classify`), so it still has the request_id to answer when the payload is bad.
public enum DownlinkPayload: Sendable, Equatable {
    case command(requestId: String, CommandRequest)
    case propertiesSet(requestId: String, PropertiesSetRequest)
    case propertiesGet(requestId: String, PropertiesGetRequest)
    case shadowGetResponse(requestId: String, ShadowGetResponse)
    case message(MessageDown)
    case events(DownlinkEvents)
    /// A custom `user/…` topic: the payload is not interpreted.
    case custom(name: String, payload: Data)
    /// A topic under our root that we do not know: logged and ignored.
    case unknown(path: String)

    public static func decode(topic: DownlinkTopic, payload: Data,
                              limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) throws(PayloadError) -> DownlinkPayload {
        switch topic {
        case .command(let id): return .command(requestId: id, try IoTDAJSON.decode(CommandRequest.self, from: payload, limit: limit))
        case .propertiesSet(let id): return .propertiesSet(requestId: id, try IoTDAJSON.decode(PropertiesSetRequest.self, from: payload, limit: limit))
        case .propertiesGet(let id): return .propertiesGet(requestId: id, try IoTDAJSON.decode(PropertiesGetRequest.self, from: payload, limit: limit))
        case .shadowGetResponse(let id): return .shadowGetResponse(requestId: id, try IoTDAJSON.decode(ShadowGetResponse.self, from: payload, limit: limit))
        case .messagesDown: return .message(try IoTDAJSON.decode(MessageDown.self, from: payload, limit: limit))
        case .eventsDown: return .events(try DownlinkEvents.decode(payload, limit: limit))
        case .custom(let name):
            guard payload.count <= limit else {
                throw PayloadError(.oversized(size: payload.count, limit: limit), "payload of \(payload.count) bytes exceeds the \(limit)-byte limit")
            }
            return .custom(name: name, payload: payload)
        case .unknown(let path): return .unknown(path: path)
        }
    }

    /// The child a request is for (`object_device_id`); nil means the gateway itself.
    public var objectDeviceId: String? {
        switch self {
        case .command(_, let r): r.objectDeviceId
        case .propertiesSet(_, let r): r.objectDeviceId
        case .propertiesGet(_, let r): r.objectDeviceId
        case .shadowGetResponse(_, let r): r.objectDeviceId
        case .message(let m): m.objectDeviceId
        case .events(let e): e.objectDeviceId
        case .custom, .unknown: nil
        }
    }
}

/// Connection-level limits (spec §1).
public enum ConnectionLimits {
    /// Keepalive the session accepts in configuration; outside it the platform answers CONNACK 2.
    /// One definition, in the config model that enforces it.
    public static let keepaliveRange = GatewayConfig.Cloud.keepaliveRange
    public static let defaultKeepalive = GatewayConfig.Cloud.defaultKeepalive
    /// The platform drops a silent connection after 1.5 × keepalive.
    public static let deadConnectionFactor = 1.5
    /// MQTT and MQTTS ports.
    public static let mqttPort = GatewayConfig.Cloud.defaultPlainPort
    public static let mqttsPort = GatewayConfig.Cloud.defaultTLSPort
    /// Per-connection upstream flow-control alarm threshold: "3K/s" (UG 6.3), read as bytes.
    public static let upstreamAlarmBytesPerSecond = 3 * 1024
    /// Default message-report alarm for a whole resource space, when its switch is on (UG 6.3).
    public static let resourceSpaceMessagesPerSecond = 120
    /// A message for an offline MQTT device is dropped after 1 day (UG 4.5.3).
    public static let pendingMessageLifetime: Duration = .seconds(86_400)
    /// The platform marks the gateway offline about 1 minute after the link drops (UG 3.4).
    public static let offlineDetection: Duration = .seconds(60)

    /// Checks a configured keepalive.
    public static func isValidKeepalive(_ seconds: Int) -> Bool { keepaliveRange.contains(seconds) }
}
