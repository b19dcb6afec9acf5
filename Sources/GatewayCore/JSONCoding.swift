import Foundation

// JSONValue and JSONObject are Codable, so a payload type with a JSON field (an object of
// properties, command paras, extension_info) gets its coding synthesized.
//
// Decoding: object keys come out sorted (keyed decoding has no order); a JSONObject field that
// holds anything but an object is a type mismatch. Encoding: the object's keys are written in its
// order, but JSONEncoder does not keep it (IoTDA sorts keys, or writes property reports with its
// own ordered writer); integers stay integers, JSON has no NaN or infinity, so a non-finite
// double goes out as null: a field device can produce one (a float register with all bits set),
// and one such value must not make a whole payload unencodable.

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let b = try? container.decode(Bool.self) { self = .bool(b); return }
        if let i = try? container.decode(Int64.self) { self = .int(i); return }
        if let u = try? container.decode(UInt64.self) { self = .uint(u); return }
        if let d = try? container.decode(Double.self) { self = .double(d); return }
        if let s = try? container.decode(String.self) { self = .string(s); return }
        if let a = try? container.decode([JSONValue].self) { self = .array(a); return }
        // Keyed decoding loses order: keys come out sorted, so equal documents give equal objects.
        let keyed = try decoder.container(keyedBy: AnyKey.self)
        var object = JSONObject()
        for key in keyed.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            object[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key)
        }
        self = .object(object)
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .uint(let u): var c = encoder.singleValueContainer(); try c.encode(u)
        case .double(let d):
            var c = encoder.singleValueContainer()
            if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .array(let a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case .object(let o): try o.encode(to: encoder)
        }
    }
}

extension JSONObject: Codable {
    public init(from decoder: Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: decoder.codingPath,
                                                                     debugDescription: "expected an object, got \(value.typeName)"))
        }
        self = object
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        for (k, v) in pairs { try c.encode(v, forKey: AnyKey(stringValue: k)) }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
