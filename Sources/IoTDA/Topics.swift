/// The platform's system topics for one device (spec §2.1). For edgegw the device is always the
/// gateway: traffic about children travels on the gateway's topics with `object_device_id`.
public struct IoTDATopics: Sendable, Equatable {
    public let deviceId: String
    /// `$oc/devices/{device_id}`
    public let root: String

    public init(deviceId: String) {
        self.deviceId = deviceId
        root = "$oc/devices/\(deviceId)"
    }

    // MARK: Uplink (the gateway publishes)

    public var messagesUp: String { "\(root)/sys/messages/up" }
    public var propertiesReport: String { "\(root)/sys/properties/report" }
    public var gatewayBatchPropertiesReport: String { "\(root)/sys/gateway/sub_devices/properties/report" }
    public var eventsUp: String { "\(root)/sys/events/up" }
    /// The request_id is echoed exactly as it came in the request topic.
    public func commandResponse(requestId: String) -> String { "\(root)/sys/commands/response/request_id=\(requestId)" }
    public func propertiesSetResponse(requestId: String) -> String { "\(root)/sys/properties/set/response/request_id=\(requestId)" }
    public func propertiesGetResponse(requestId: String) -> String { "\(root)/sys/properties/get/response/request_id=\(requestId)" }
    /// The device chooses this request_id and keeps it unique (a counter or a UUID).
    public func shadowGet(requestId: String) -> String { "\(root)/sys/shadow/get/request_id=\(requestId)" }

    // MARK: Downlink (the platform publishes)

    public var messagesDown: String { "\(root)/sys/messages/down" }
    public var eventsDown: String { "\(root)/sys/events/down" }
    public func command(requestId: String) -> String { "\(root)/sys/commands/request_id=\(requestId)" }
    public func propertiesSet(requestId: String) -> String { "\(root)/sys/properties/set/request_id=\(requestId)" }
    public func propertiesGet(requestId: String) -> String { "\(root)/sys/properties/get/request_id=\(requestId)" }
    public func shadowGetResponse(requestId: String) -> String { "\(root)/sys/shadow/get/response/request_id=\(requestId)" }

    // MARK: Subscriptions

    public var commandsFilter: String { "\(root)/sys/commands/#" }
    public var propertiesSetFilter: String { "\(root)/sys/properties/set/#" }
    public var propertiesGetFilter: String { "\(root)/sys/properties/get/#" }
    public var shadowGetResponseFilter: String { "\(root)/sys/shadow/get/response/#" }

    /// Every downlink system topic, subscribed explicitly so that delivery is QoS 1 (the implicit
    /// subscription is QoS 0, spec §1.7).
    public var downlinkSubscriptions: [String] {
        [commandsFilter, propertiesSetFilter, propertiesGetFilter, shadowGetResponseFilter, messagesDown, eventsDown]
    }

    // MARK: Custom topics

    /// The custom part of `$oc/devices/{device_id}/user/{custom}`: 1–64 bytes.
    public static let customTopicLengths = 1...64
    /// Custom topics a product may declare.
    public static let maxCustomTopicsPerProduct = 10

    /// `$oc/devices/{device_id}/user/{custom}`; the custom part is 1–64 of `[A-Za-z0-9_/]`, no `//`.
    public func custom(_ name: String) throws(TopicError) -> String {
        let b = Array(name.utf8)
        guard Self.customTopicLengths.contains(b.count) else {
            throw TopicError(.invalidCustomName, name, "custom topic name must be 1–64 bytes")
        }
        for (i, c) in b.enumerated() {
            let ok = MQTTCredentials.isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "/")
            guard ok else { throw TopicError(.invalidCustomName, name, "custom topic name may contain only letters, digits, '_' and '/'") }
            if c == UInt8(ascii: "/"), i > 0, b[i - 1] == c {
                throw TopicError(.invalidCustomName, name, "custom topic name may not contain '//'")
            }
        }
        return "\(root)/user/\(name)"
    }

    // MARK: Classifying downlink topics

    /// Longest topic accepted for classification; the platform names none, MQTT allows 65535 bytes.
    public static let maxTopicLength = 65_535

    /// What an incoming topic is. Topics for another device, or request topics without a
    /// request_id, are errors; topics under our root that are not downlink topics are `.unknown`.
    public func classify(_ topic: String) throws(TopicError) -> DownlinkTopic {
        guard !topic.isEmpty else { throw TopicError(.empty, topic, "empty topic") }
        guard topic.utf8.count <= Self.maxTopicLength else { throw TopicError(.tooLong, String(topic.prefix(128)), "topic too long") }
        let prefix = root + "/"
        guard topic.hasPrefix(prefix) else {
            throw TopicError(.foreignDevice, topic, "topic is not under \(prefix)")
        }
        let path = topic.dropFirst(prefix.count)
        if path == "sys/messages/down" { return .messagesDown }
        if path == "sys/events/down" { return .eventsDown }
        if path.hasPrefix("user/") { return .custom(name: String(path.dropFirst(5))) }
        let requestTopics: [(String, (String) -> DownlinkTopic)] = [
            ("sys/commands/", DownlinkTopic.command(requestId:)),
            ("sys/properties/set/", DownlinkTopic.propertiesSet(requestId:)),
            ("sys/properties/get/", DownlinkTopic.propertiesGet(requestId:)),
            ("sys/shadow/get/response/", DownlinkTopic.shadowGetResponse(requestId:)),
        ]
        for (head, make) in requestTopics where path.hasPrefix(head) {
            let rest = path.dropFirst(head.count)
            // Our own uplink responses live under the same heads (commands/response/…).
            if head != "sys/shadow/get/response/", rest.hasPrefix("response/") { return .unknown(path: String(path)) }
            guard rest.hasPrefix("request_id=") else {
                throw TopicError(.missingRequestId, topic, "request topic without request_id=")
            }
            let id = rest.dropFirst("request_id=".count)
            guard !id.isEmpty else { throw TopicError(.missingRequestId, topic, "empty request_id") }
            return make(String(id))
        }
        return .unknown(path: String(path))
    }
}

/// A downlink topic, classified.
public enum DownlinkTopic: Sendable, Equatable, Hashable {
    case command(requestId: String)
    case propertiesSet(requestId: String)
    case propertiesGet(requestId: String)
    case shadowGetResponse(requestId: String)
    case messagesDown
    case eventsDown
    /// `$oc/devices/{id}/user/{name}`
    case custom(name: String)
    /// Under our root but not a downlink topic we know (logged and ignored).
    case unknown(path: String)

    /// The request_id to echo in the response topic, where the platform waits for one.
    public var requestId: String? {
        switch self {
        case .command(let id), .propertiesSet(let id), .propertiesGet(let id), .shadowGetResponse(let id): id
        default: nil
        }
    }
}

public struct TopicError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case empty
        case tooLong
        /// Not under `$oc/devices/{our device id}/`.
        case foreignDevice
        /// A request topic without `request_id=` or with an empty one.
        case missingRequestId
        case invalidCustomName
    }

    public let code: Code
    public let topic: String
    public let reason: String

    init(_ code: Code, _ topic: String, _ reason: String) {
        self.code = code
        self.topic = topic
        self.reason = reason
    }

    public var description: String { "\(reason): \(topic)" }
}
