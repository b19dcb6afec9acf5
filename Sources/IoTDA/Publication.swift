import Foundation
import GatewayCore

/// A topic and its encoded payload, ready for an MQTT publish (QoS 1, never retained).
public struct Publication: Sendable, Equatable {
    public var topic: String
    public var payload: Data

    public init(topic: String, payload: Data) {
        self.topic = topic
        self.payload = payload
    }
}

extension IoTDATopics {
    public func publication(_ report: BatchPropertyReport) throws -> Publication {
        Publication(topic: gatewayBatchPropertiesReport, payload: try IoTDAJSON.encode(report))
    }

    public func publication(_ report: PropertiesReport) throws -> Publication {
        Publication(topic: propertiesReport, payload: try IoTDAJSON.encode(report))
    }

    public func publication(_ events: EventsMessage) throws -> Publication {
        Publication(topic: eventsUp, payload: try IoTDAJSON.encode(events))
    }

    public func publication(_ message: MessageUp) throws -> Publication {
        Publication(topic: messagesUp, payload: try IoTDAJSON.encode(message))
    }

    public func publication(requestId: String, _ response: CommandResponse) throws -> Publication {
        Publication(topic: commandResponse(requestId: requestId), payload: try IoTDAJSON.encode(response))
    }

    public func publication(requestId: String, _ response: PropertiesSetResponse) throws -> Publication {
        Publication(topic: propertiesSetResponse(requestId: requestId), payload: try IoTDAJSON.encode(response))
    }

    public func publication(requestId: String, _ response: PropertiesGetResponse) throws -> Publication {
        Publication(topic: propertiesGetResponse(requestId: requestId), payload: try IoTDAJSON.encode(response))
    }

    public func publication(requestId: String, _ request: ShadowGetRequest) throws -> Publication {
        Publication(topic: shadowGet(requestId: requestId), payload: try IoTDAJSON.encode(request))
    }
}

extension IoTDATopics {
    /// The failure answer to a downlink request, for when the payload is unusable, the child is
    /// unknown or no handler answered in time. Nil for topics the platform expects no answer on
    /// (messages, events, shadow responses).
    public func failureResponse(to topic: DownlinkTopic, code: DownlinkResultCode, description: String) throws -> Publication? {
        switch topic {
        case .command(let id):
            return try publication(requestId: id, CommandResponse(resultCode: code.rawValue, resultDesc: description))
        case .propertiesSet(let id):
            return try publication(requestId: id, PropertiesSetResponse(resultCode: code.rawValue, resultDesc: description))
        case .propertiesGet(let id):
            return try publication(requestId: id, PropertiesGetResponse.failure(DownlinkError(code, description)))
        case .shadowGetResponse, .messagesDown, .eventsDown, .custom, .unknown:
            return nil
        }
    }
}
