import Foundation

/// An uplink topic, classified: what the platform (or a scripted platform in tests) sees.
public enum UplinkTopic: Sendable, Equatable, Hashable {
    case messagesUp
    case propertiesReport
    case gatewayBatchPropertiesReport
    case eventsUp
    case commandResponse(requestId: String)
    case propertiesSetResponse(requestId: String)
    case propertiesGetResponse(requestId: String)
    case shadowGet(requestId: String)
    case custom(name: String)
    case unknown(path: String)
}

extension IoTDATopics {
    /// The device id of any `$oc/devices/{device_id}/…` topic (for a platform serving many devices).
    public static func deviceId(ofTopic topic: String) -> String? {
        let prefix = "$oc/devices/"
        guard topic.hasPrefix(prefix) else { return nil }
        let rest = topic.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/"), slash > rest.startIndex else { return nil }
        return String(rest[..<slash])
    }

    /// Classifies a topic the device publishes on.
    public func classifyUplink(_ topic: String) throws(TopicError) -> UplinkTopic {
        guard !topic.isEmpty else { throw TopicError(.empty, topic, "empty topic") }
        guard topic.utf8.count <= Self.maxTopicLength else { throw TopicError(.tooLong, String(topic.prefix(128)), "topic too long") }
        let prefix = root + "/"
        guard topic.hasPrefix(prefix) else { throw TopicError(.foreignDevice, topic, "topic is not under \(prefix)") }
        let path = topic.dropFirst(prefix.count)
        switch path {
        case "sys/messages/up": return .messagesUp
        case "sys/properties/report": return .propertiesReport
        case "sys/gateway/sub_devices/properties/report": return .gatewayBatchPropertiesReport
        case "sys/events/up": return .eventsUp
        default: break
        }
        if path.hasPrefix("user/") { return .custom(name: String(path.dropFirst(5))) }
        let requestTopics: [(String, (String) -> UplinkTopic)] = [
            ("sys/commands/response/", UplinkTopic.commandResponse(requestId:)),
            ("sys/properties/set/response/", UplinkTopic.propertiesSetResponse(requestId:)),
            ("sys/properties/get/response/", UplinkTopic.propertiesGetResponse(requestId:)),
            ("sys/shadow/get/", UplinkTopic.shadowGet(requestId:)),
        ]
        for (head, make) in requestTopics where path.hasPrefix(head) {
            let rest = path.dropFirst(head.count)
            if head == "sys/shadow/get/", rest.hasPrefix("response/") { return .unknown(path: String(path)) }
            guard rest.hasPrefix("request_id="), rest.count > "request_id=".count else {
                throw TopicError(.missingRequestId, topic, "response topic without request_id=")
            }
            return make(String(rest.dropFirst("request_id=".count)))
        }
        return .unknown(path: String(path))
    }
}

/// An uplink publish, decoded and checked against the documented schemas and limits. The
/// daemon does not need this; a platform stand-in in tests uses it to refuse what the real
/// platform would refuse.
public enum UplinkPayload: Sendable, Equatable {
    case batchReport(BatchPropertyReport)
    case propertiesReport(PropertiesReport)
    case events(EventsMessage)
    case message(MessageUp)
    case commandResponse(requestId: String, CommandResponse)
    case propertiesSetResponse(requestId: String, PropertiesSetResponse)
    case propertiesGetResponse(requestId: String, PropertiesGetResponse)
    case shadowGet(requestId: String, ShadowGetRequest)
    case custom(name: String, payload: Data)
    case unknown(path: String)

    public static func decode(topic: UplinkTopic, payload: Data, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) throws(PayloadError) -> UplinkPayload {
        switch topic {
        case .gatewayBatchPropertiesReport:
            let r = try IoTDAJSON.decode(BatchPropertyReport.self, from: payload, limit: limit)
            try r.validate()
            return .batchReport(r)
        case .propertiesReport: return .propertiesReport(try IoTDAJSON.decode(PropertiesReport.self, from: payload, limit: limit))
        case .eventsUp:
            let m = try IoTDAJSON.decode(EventsMessage.self, from: payload, limit: limit)
            for s in m.services { try validateUplink(s.event) }
            if m.services.contains(where: { if case .logReport = $0.event { true } else { false } }), payload.count > LogReport.maxReportBytes {
                throw PayloadError(.limitExceeded(field: "log_report", limit: LogReport.maxReportBytes, actual: payload.count),
                                   "a log report is at most \(LogReport.maxReportBytes) bytes, got \(payload.count)")
            }
            return .events(m)
        case .messagesUp: return .message(try IoTDAJSON.decode(MessageUp.self, from: payload, limit: limit))
        case .commandResponse(let id): return .commandResponse(requestId: id, try IoTDAJSON.decode(CommandResponse.self, from: payload, limit: limit))
        case .propertiesSetResponse(let id): return .propertiesSetResponse(requestId: id, try IoTDAJSON.decode(PropertiesSetResponse.self, from: payload, limit: limit))
        case .propertiesGetResponse(let id): return .propertiesGetResponse(requestId: id, try IoTDAJSON.decode(PropertiesGetResponse.self, from: payload, limit: limit))
        case .shadowGet(let id): return .shadowGet(requestId: id, try IoTDAJSON.decode(ShadowGetRequest.self, from: payload, limit: limit))
        case .custom(let name): return .custom(name: name, payload: payload)
        case .unknown(let path): return .unknown(path: path)
        }
    }

    static func validateUplink(_ event: IoTDAEvent) throws(PayloadError) {
        if event.direction == .down {
            throw PayloadError(.unexpectedDirection(serviceId: event.serviceId, eventType: event.eventType),
                               "downlink event \(event.serviceId)/\(event.eventType) published on events/up")
        }
        switch event {
        case .subDeviceUpdateStatus(let u): try u.validate()
        case .addSubDeviceRequest(let r): try r.validate()
        case .deleteSubDeviceRequest(let r): try r.validate()
        case .updateSubDeviceRequest(let r): try r.validate()
        case .upgradeProgressReport(let p):
            if let progress = p.progress, !UpgradeProgress.progressRange.contains(progress) {
                throw PayloadError(.limitExceeded(field: "progress", limit: UpgradeProgress.progressRange.upperBound, actual: progress),
                                   "upgrade progress must be 0–100, got \(progress)")
            }
        default: break
        }
    }
}
