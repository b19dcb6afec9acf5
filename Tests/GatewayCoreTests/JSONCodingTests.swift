import Foundation
import Testing
import GatewayCore

/// JSONValue and JSONObject through Codable: what a payload type with a JSON field gets.
@Suite struct JSONCodingTests {
    struct Holder: Codable, Equatable {
        var required: JSONObject
        var optional: JSONObject?
    }

    @Test func anObjectFieldDecodesAndAbsentOrNullIsNil() throws {
        let data = Data(#"{"required":{"b":1,"a":[true,null,"x",2.5]},"optional":null}"#.utf8)
        let holder = try JSONDecoder().decode(Holder.self, from: data)
        #expect(holder.required == ["a": [true, nil, "x", 2.5], "b": 1])
        #expect(holder.required.keys == ["a", "b"])
        #expect(holder.optional == nil)
        let absent = try JSONDecoder().decode(Holder.self, from: Data(#"{"required":{}}"#.utf8))
        #expect(absent.optional == nil && absent.required.isEmpty)
    }

    @Test func anythingButAnObjectIsATypeMismatchAtItsField() {
        for text in [#"{"required":[1]}"#, #"{"required":"x"}"#, #"{"required":null}"#, #"{"required":{},"optional":3}"#] {
            do {
                _ = try JSONDecoder().decode(Holder.self, from: Data(text.utf8))
                Issue.record("\(text) decoded")
            } catch DecodingError.typeMismatch(let type, let context) {
                #expect(type is JSONObject.Type)
                #expect(context.codingPath.last.map(\.stringValue) == (text.contains("optional") ? "optional" : "required"))
                #expect(context.debugDescription.hasPrefix("expected an object, got "))
            } catch {
                Issue.record("\(text): \(error)")
            }
        }
    }

    /// JSONEncoder does not keep the keys' order (IoTDA's ordered writer does, where it matters).
    static func sorted<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func encodingKeepsTheNumberForms() throws {
        let object: JSONObject = ["z": 1, "a": .uint(UInt64.max), "m": 2.5, "s": "t", "n": nil, "i": -7]
        #expect(try Self.sorted(object) == #"{"a":18446744073709551615,"i":-7,"m":2.5,"n":null,"s":"t","z":1}"#)
        #expect(try Self.sorted(JSONValue.object(object)) == Self.sorted(object))
        #expect(try Self.sorted(Holder(required: object)) == #"{"required":\#(Self.sorted(object))}"#)
    }

    @Test func nonFiniteNumbersGoOutAsNull() throws {
        let object: JSONObject = ["nan": .double(.nan), "inf": [.double(-.infinity), 1]]
        #expect(try Self.sorted(object) == #"{"inf":[null,1],"nan":null}"#)
    }
}
