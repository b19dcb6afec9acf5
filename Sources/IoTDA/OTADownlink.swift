import Foundation
import GatewayCore

/// The `$ota` notices of a `sys/events/down` body, each checked on its own. Unlike
/// `DownlinkEvents`, a notice whose fields are wrong keeps its event type and its child, so
/// the gateway can answer it (`OTANoticeError.reply`). Other services are left to `DownlinkEvents`.
public struct OTADownlink: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var eventType: String
        public var eventTime: String?
        public var result: Result<OTANotice, OTANoticeError>

        public init(eventType: String, eventTime: String? = nil, result: Result<OTANotice, OTANoticeError>) {
            self.eventType = eventType
            self.eventTime = eventTime
            self.result = result
        }
    }

    /// The child the notices are for; nil means the gateway itself.
    public var objectDeviceId: String?
    public var items: [Item]

    public init(objectDeviceId: String?, items: [Item]) {
        self.objectDeviceId = objectDeviceId
        self.items = items
    }

    public var notices: [OTANotice] { items.compactMap { try? $0.result.get() } }
    public var errors: [OTANoticeError] { items.compactMap { if case .failure(let e) = $0.result { e } else { nil } } }

    /// Throws only when the envelope is unusable (oversized, not JSON, not an object).
    public static func decode(_ data: Data, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) throws(OTANoticeError) -> OTADownlink {
        let root: JSONValue
        switch Result(catching: { () throws(PayloadError) -> JSONValue in try IoTDAJSON.decode(JSONValue.self, from: data, limit: limit) }) {
        case .success(let value): root = value
        case .failure(let error): throw OTANoticeError(.malformedEnvelope, eventType: "", error.detail)
        }
        guard let object = root.objectValue else {
            throw OTANoticeError(.malformedEnvelope, eventType: "", "payload is not a JSON object")
        }
        let child = object["object_device_id"]?.stringValue
        let services = object["services"]?.arrayValue ?? []
        var items: [Item] = []
        for service in services {
            guard let fields = service.objectValue, fields["service_id"]?.stringValue == IoTDAEvent.ServiceID.ota,
                  let eventType = fields["event_type"]?.stringValue, OTANotice.eventTypes.contains(eventType) else { continue }
            items.append(Item(eventType: eventType, eventTime: fields["event_time"]?.stringValue,
                              result: Self.check(fields, eventType: eventType)))
        }
        return OTADownlink(objectDeviceId: child, items: items)
    }

    /// One service object: its shape through `EventService`, then `OTANotice`'s checks.
    static func check(_ fields: JSONObject, eventType: String) -> Result<OTANotice, OTANoticeError> {
        // Integers first: a fraction (10.5) would otherwise surface as an unreadable payload.
        if let paras = fields["paras"]?.objectValue {
            for key in ["file_size", "expires"] {
                guard let value = paras[key], value != .null, value.intValue == nil else { continue }
                return .failure(OTANoticeError(.wrongType(key), eventType: eventType,
                                               "field 'paras.\(key)' must be an integer, got \(value.typeName)"))
            }
        }
        do {
            let data = try JSONEncoder().encode(JSONValue.object(fields))
            let service = try IoTDAJSON.decode(EventService.self, from: data, limit: .max)
            guard let notice = try OTANotice(checking: service.event) else {
                return .failure(OTANoticeError(.malformedEnvelope, eventType: eventType, "not a $ota downlink"))
            }
            return .success(notice)
        } catch let error as OTANoticeError {
            return .failure(error)
        } catch let error as PayloadError {
            return .failure(OTANoticeError(error, eventType: eventType))
        } catch {
            return .failure(OTANoticeError(.malformedEnvelope, eventType: eventType, "\(error)"))
        }
    }
}
