import GatewayCore

/// UP `…/sys/messages/up`: free-form data the platform forwards without validating it.
public struct MessageUp: Sendable, Equatable, Codable {
    /// The child the message is from; nil means the gateway.
    public var objectDeviceId: String?
    public var name: String?
    public var id: String?
    /// An object in the documents' table; any JSON is forwarded.
    public var content: JSONValue

    public init(objectDeviceId: String? = nil, name: String? = nil, id: String? = nil, content: JSONValue) {
        self.objectDeviceId = objectDeviceId
        self.name = name
        self.id = id
        self.content = content
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", name, id, content }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(objectDeviceId, forKey: .objectDeviceId)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeValue(content, forKey: .content)
    }
}

/// DOWN `…/sys/messages/down`. Asynchronous: no response is expected.
public struct MessageDown: Sendable, Equatable, Codable {
    public var objectDeviceId: String?
    public var name: String?
    public var id: String?
    /// A String in the documents' table, but the application API takes a string or a JSON object
    /// and the platform does not validate it, so any JSON value is accepted.
    public var content: JSONValue

    public init(objectDeviceId: String? = nil, name: String? = nil, id: String? = nil, content: JSONValue) {
        self.objectDeviceId = objectDeviceId
        self.name = name
        self.id = id
        self.content = content
    }

    enum CodingKeys: String, CodingKey { case objectDeviceId = "object_device_id", name, id, content }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(objectDeviceId, forKey: .objectDeviceId)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeValue(content, forKey: .content)
    }
}
