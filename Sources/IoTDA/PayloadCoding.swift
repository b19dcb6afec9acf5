import Foundation
import GatewayCore

/// Why a payload from the cloud could not be used. The session logs `description` and answers
/// the request (where the topic carries a request_id) with a failure result.
public struct PayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Larger than the bound the decoder was given; not parsed at all.
        case oversized(size: Int, limit: Int)
        /// Not JSON (or not UTF-8).
        case malformedJSON
        /// Valid JSON, but the top level is not an object.
        case notAnObject
        /// A field has the wrong JSON type (or is null where a value is required).
        case wrongType(field: String)
        /// A required field is absent.
        case missingField(field: String)
        /// A `$`-system service or event type that the documents do not define.
        case unknownEvent(serviceId: String, eventType: String)
        /// A known event that travels the other way (an uplink event type on events/down).
        case unexpectedDirection(serviceId: String, eventType: String)
        /// A documented limit is broken (e.g. more than 50 devices in a request).
        case limitExceeded(field: String, limit: Int, actual: Int)
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail }
}

/// JSON encoding and bounded, typed decoding for every payload type.
public enum IoTDAJSON {
    /// Largest downlink payload we parse. The platform names no MQTT payload limit; its other
    /// bodies (HTTPS, log report) are bounded at 1 MB, so we bound the downlink the same way.
    public static let maxDownlinkPayloadBytes = 1_048_576

    /// Compact JSON. Property reports keep the documents' field order and the order of their
    /// property maps; everything else has its keys sorted, so equal values give equal bytes.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        if let ordered = value as? OrderedJSONWritable {
            var writer = JSONWriter()
            ordered.write(to: &writer)
            return writer.data
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try encoder.encode(value)
    }

    /// Decodes `T`, turning every failure into a `PayloadError`; never traps on hostile input.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data,
                                            limit: Int = maxDownlinkPayloadBytes) throws(PayloadError) -> T {
        guard data.count <= limit else {
            throw PayloadError(.oversized(size: data.count, limit: limit),
                               "payload of \(data.count) bytes exceeds the \(limit)-byte limit")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as PayloadError {
            throw error
        } catch let error as DecodingError {
            throw PayloadError(decoding: error)
        } catch {
            throw PayloadError(.malformedJSON, "payload is not valid JSON: \(error)")
        }
    }
}

extension PayloadError {
    init(decoding error: DecodingError) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.missingField(field: field), "required field '\(field)' is missing")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                self.init(.notAnObject, "payload is not a JSON object")
            } else {
                let field = path(context.codingPath)
                self.init(.wrongType(field: field), "field '\(field)' has the wrong type (expected \(type))")
            }
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            self.init(.wrongType(field: field), "field '\(field)' is null where a value is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.malformedJSON, "payload is not valid JSON")
            } else {
                let field = path(context.codingPath)
                self.init(.wrongType(field: field), "field '\(field)' is invalid: \(context.debugDescription)")
            }
        @unknown default:
            self.init(.malformedJSON, "payload could not be decoded")
        }
    }
}

/// Coding keys from strings, for the envelopes whose fields depend on each other.
struct PayloadKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONObject {
    /// Size of the object as compact JSON, for the byte limits on extension_info and the like.
    var encodedSize: Int { (try? IoTDAJSON.encode(JSONValue.object(self)).count) ?? Int.max }
}

extension KeyedDecodingContainer {
    /// A string field the platform may also send as a number (error codes): both give a String.
    func decodeLenientString(forKey key: Key) throws -> String {
        if let s = try? decode(String.self, forKey: key) { return s }
        if let i = try? decode(Int64.self, forKey: key) { return String(i) }
        return try decode(String.self, forKey: key)
    }
}
