import Foundation
import GatewayCore
import Testing
@testable import IoTDA

/// Decodes a document example, encodes it again, and checks that nothing was lost: the two JSON
/// trees are equal once explicit nulls are dropped (the documents send `null` for absent optionals,
/// we omit them) and a second decode gives the same value.
@discardableResult
func roundTrip<T: Codable & Equatable>(_ json: String, as type: T.Type,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    let original = Data(json.utf8)
    let value = try IoTDAJSON.decode(type, from: original)
    let encoded = try IoTDAJSON.encode(value)
    let again = try IoTDAJSON.decode(type, from: encoded)
    #expect(again == value, sourceLocation: sourceLocation)
    let lhs = try normalized(original)
    let rhs = try normalized(encoded)
    #expect(lhs == rhs, "\n\(String(decoding: encoded, as: UTF8.self))\n≠\n\(json)", sourceLocation: sourceLocation)
    return value
}

func normalized(_ data: Data) throws -> JSONValue {
    func strip(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out = JSONObject()
            for (k, x) in o.pairs where x != .null { out[k] = strip(x) }
            return .object(out)
        case .array(let a): return .array(a.map(strip))
        default: return v
        }
    }
    return strip(try JSONDecoder().decode(JSONValue.self, from: data))
}

func decodeError<T: Decodable>(_ json: String, as type: T.Type, limit: Int = IoTDAJSON.maxDownlinkPayloadBytes) -> PayloadError.Code? {
    do { _ = try IoTDAJSON.decode(type, from: Data(json.utf8), limit: limit); return nil } catch { return error.code }
}
