import GatewayCore

/// A free-form message, `…/sys/messages/up` and `…/sys/messages/down` alike: the platform forwards
/// it without validating it, and asynchronously (no response is expected).
public struct DeviceMessage: Sendable, Equatable, Codable {
    /// The child the message is from or for; nil means the gateway.
    public var objectDeviceId: String?
    public var name: String?
    public var id: String?
    /// An object up, a String down in the documents' tables; but the application API takes a string
    /// or a JSON object and the platform does not validate it, so any JSON value is accepted.
    public var content: JSONValue

    public init(objectDeviceId: String? = nil, name: String? = nil, id: String? = nil, content: JSONValue) {
        self.objectDeviceId = objectDeviceId
        self.name = name
        self.id = id
        self.content = content
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", name, id, content }
}

/// UP `…/sys/messages/up`.
public typealias MessageUp = DeviceMessage
/// DOWN `…/sys/messages/down`.
public typealias MessageDown = DeviceMessage
