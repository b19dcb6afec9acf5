import Foundation

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
