import GatewayCore

// JSONObject is GatewayCore's; these helpers code it as a JSON object field without adding a
// conformance to a type this module does not own.

extension KeyedDecodingContainer {
    func decodeObject(forKey key: Key) throws -> JSONObject {
        let value = try decode(JSONValue.self, forKey: key)
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: codingPath + [key],
                                                                     debugDescription: "expected an object, got \(value.typeName)"))
        }
        return object
    }

    /// Absent and null both give nil.
    func decodeObjectIfPresent(forKey key: Key) throws -> JSONObject? {
        guard let value = try decodeIfPresent(JSONValue.self, forKey: key), value != .null else { return nil }
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: codingPath + [key],
                                                                     debugDescription: "expected an object, got \(value.typeName)"))
        }
        return object
    }
}

extension KeyedEncodingContainer {
    mutating func encodeObject(_ object: JSONObject, forKey key: Key) throws {
        try encode(JSONValue.object(object), forKey: key)
    }

    mutating func encodeObjectIfPresent(_ object: JSONObject?, forKey key: Key) throws {
        if let object { try encode(JSONValue.object(object), forKey: key) }
    }
}
