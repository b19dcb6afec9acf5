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
        try encode(JSONValue.object(object).finiteForJSON, forKey: key)
    }

    mutating func encodeObjectIfPresent(_ object: JSONObject?, forKey key: Key) throws {
        if let object { try encode(JSONValue.object(object).finiteForJSON, forKey: key) }
    }

    mutating func encodeValue(_ value: JSONValue, forKey key: Key) throws {
        try encode(value.finiteForJSON, forKey: key)
    }

    mutating func encodeValueIfPresent(_ value: JSONValue?, forKey key: Key) throws {
        if let value { try encode(value.finiteForJSON, forKey: key) }
    }
}

extension JSONValue {
    /// JSON has no NaN or infinity: a field device can still produce them (a float register with
    /// all bits set), and one such value must not make a whole batch unencodable. They go out as null.
    var finiteForJSON: JSONValue {
        switch self {
        case .double(let d) where !d.isFinite: return .null
        case .object(let o) where o.pairs.contains(where: { $0.value.needsFiniteFix }):
            var out = JSONObject()
            for (k, v) in o.pairs { out[k] = v.finiteForJSON }
            return .object(out)
        case .array(let a) where a.contains(where: \.needsFiniteFix):
            return .array(a.map(\.finiteForJSON))
        default: return self
        }
    }

    private var needsFiniteFix: Bool {
        switch self {
        case .double(let d): !d.isFinite
        case .object(let o): o.pairs.contains { $0.value.needsFiniteFix }
        case .array(let a): a.contains { $0.needsFiniteFix }
        default: false
        }
    }
}
