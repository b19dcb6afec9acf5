import DeviceCodec
import Foundation
import GatewayCore
import Testing

/// Every field type at its extremes, through a report (device → gateway) and a command
/// (gateway → device), with the exact big-endian bytes.
@Suite struct FieldTypeTests {
    /// A report with one field of `type` mapped to property `v` of `propertyType`.
    static func codec(type: String, propertyType: String, extra: String = "") throws -> ProductCodec {
        var text = productHeader(properties: [("v", propertyType)], paras: [("v", propertyType)], responses: [])
        let lengthField = type == "varstring" || type == "variant"
        let prefix = lengthField ? "[[codec.uplink.fields]]\nname = \"n\"\ntype = \"int16u\"\n\n" : ""
        let downPrefix = lengthField ? "[[codec.downlink.fields]]\nname = \"n\"\ntype = \"int16u\"\n\n" : ""
        let lengthKey = lengthField ? "length_field = \"n\"\n" : ""
        text += """
        [[codec.uplink]]
        name = "r"
        kind = "report"
        service = "S"

        \(prefix)[[codec.uplink.fields]]
        name = "v"
        type = "\(type)"
        \(lengthKey)\(extra)

        [[codec.downlink]]
        name = "c"
        kind = "command"
        command = "CMD"

        \(downPrefix)[[codec.downlink.fields]]
        name = "v"
        type = "\(type)"
        \(lengthKey)\(extra)
        """
        let fixture = CodecFixture(text)
        guard let codec = fixture.codec else {
            throw FixtureError(description: fixture.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return codec
    }

    static func roundTrip(_ codec: ProductCodec, _ value: JSONValue, bytes expected: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let report = [ServiceReport(serviceId: "S", properties: ["v": value])]
        let encoded = try codec.encodeReport(message: "r", services: report)
        #expect(hexString(encoded) == expected, sourceLocation: sourceLocation)
        #expect(try codec.decode(encoded) == .report(DecodedReport(message: "r", services: report)),
                sourceLocation: sourceLocation)
        let command = try codec.encode(command: "CMD", paras: ["v": value], mid: 1)
        #expect(hexString(command) == expected, sourceLocation: sourceLocation)
        guard case .command(let decoded) = try codec.decodeDownlink(command) else {
            Issue.record("not a command", sourceLocation: sourceLocation); return
        }
        #expect(decoded.paras == ["v": value], sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("int8u", Int64(0), "00"), ("int8u", 255, "FF"),
        ("int16u", 0, "0000"), ("int16u", 65535, "FFFF"),
        ("int24u", 0, "000000"), ("int24u", 16_777_215, "FFFFFF"),
        ("int32u", 0, "00000000"), ("int32u", 4_294_967_295, "FFFFFFFF"),
        ("int8s", -128, "80"), ("int8s", 127, "7F"), ("int8s", -1, "FF"),
        ("int16s", -32768, "8000"), ("int16s", 32767, "7FFF"),
        ("int24s", -8_388_608, "800000"), ("int24s", 8_388_607, "7FFFFF"), ("int24s", -2, "FFFFFE"),
        ("int32s", -2_147_483_648, "80000000"), ("int32s", 2_147_483_647, "7FFFFFFF"),
    ])
    func integerExtremes(type: String, value: Int64, bytes: String) throws {
        try Self.roundTrip(Self.codec(type: type, propertyType: "int"), .int(value), bytes: bytes)
    }

    @Test(arguments: ["int8u", "int16u", "int24u", "int32u", "int8s", "int16s", "int24s", "int32s"])
    func integerOneBeyondEitherEndIsRejected(type: String) throws {
        let codec = try Self.codec(type: type, propertyType: "int")
        let range = try #require(CodecFieldType(rawValue: type)?.integerRange)
        for beyond in [range.lowerBound - 1, range.upperBound + 1] {
            #expect(throws: EncodeError.self) { try codec.encode(command: "CMD", paras: ["v": .int(beyond)], mid: 1) }
            do {
                _ = try codec.encode(command: "CMD", paras: ["v": .int(beyond)], mid: 1)
            } catch {
                #expect(error.path == "paras.v")
                guard case .outOfRange = error.kind else { Issue.record("\(error)"); continue }
            }
        }
    }

    @Test func floatExtremes() throws {
        let codec = try Self.codec(type: "float", propertyType: "decimal")
        // Floats reach JSON as their shortest text: 3.4028235e+38, not 3.4028234663852886e+38.
        try Self.roundTrip(codec, .double(3.4028235e+38), bytes: "7F7FFFFF")
        try Self.roundTrip(codec, .double(-3.4028235e+38), bytes: "FF7FFFFF")
        try Self.roundTrip(codec, .double(1e-45), bytes: "00000001")
        try Self.roundTrip(codec, .double(0.1), bytes: "3DCCCCCD")
        try Self.roundTrip(codec, .double(0), bytes: "00000000")
        #expect(throws: EncodeError.self) { try codec.encode(command: "CMD", paras: ["v": .double(1e39)], mid: 1) }
        // NaN and infinity have no JSON form: the frame is rejected, not reported as null.
        #expect(throws: DecodeError(.notFinite(field: "v"), offset: 0)) { try codec.decode(hex("7FC00000")) }
        #expect(throws: DecodeError(.notFinite(field: "v"), offset: 0)) { try codec.decode(hex("FF800000")) }
    }

    @Test func doubleExtremes() throws {
        let codec = try Self.codec(type: "double", propertyType: "decimal")
        try Self.roundTrip(codec, .double(Double.greatestFiniteMagnitude), bytes: "7FEFFFFFFFFFFFFF")
        try Self.roundTrip(codec, .double(-Double.greatestFiniteMagnitude), bytes: "FFEFFFFFFFFFFFFF")
        try Self.roundTrip(codec, .double(Double.leastNonzeroMagnitude), bytes: "0000000000000001")
        try Self.roundTrip(codec, .double(-1.5), bytes: "BFF8000000000000")
        #expect(throws: DecodeError(.notFinite(field: "v"), offset: 0)) { try codec.decode(hex("7FF0000000000000")) }
    }

    @Test func fixedStringIsPaddedAndTrimmed() throws {
        let codec = try Self.codec(type: "string", propertyType: "string", extra: "length = 4")
        try Self.roundTrip(codec, "", bytes: "00000000")
        try Self.roundTrip(codec, "ab", bytes: "61620000")
        try Self.roundTrip(codec, "~!\u{7F} ", bytes: "7E217F20")
        #expect(throws: EncodeError(.tooLong(length: 5, maximum: 4), path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "abcde"], mid: 1)
        }
        #expect(throws: EncodeError(.notASCII, path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "é"], mid: 1)
        }
        #expect(throws: DecodeError(.notASCII(field: "v", byte: 0x80), offset: 1)) { try codec.decode(hex("41800000")) }
    }

    @Test func varstringFromEmptyToMaximum() throws {
        let codec = try Self.codec(type: "varstring", propertyType: "string", extra: "length = 300")
        try Self.roundTrip(codec, "", bytes: "0000")
        let longest = String(repeating: "x", count: 300)
        try Self.roundTrip(codec, .string(longest), bytes: "012C" + String(repeating: "78", count: 300))
        #expect(throws: EncodeError(.tooLong(length: 301, maximum: 300), path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": .string(longest + "x")], mid: 1)
        }
        // A length field above the declared maximum: rejected before reading on.
        #expect(throws: DecodeError(.lengthTooLarge(field: "v", length: 301, maximum: 300), offset: 0)) {
            try codec.decode(hex("012D") + [UInt8](repeating: 0x78, count: 301))
        }
    }

    @Test func arrayIsBase64() throws {
        let codec = try Self.codec(type: "array", propertyType: "string", extra: "length = 3")
        try Self.roundTrip(codec, "AAAA", bytes: "000000")
        try Self.roundTrip(codec, "////", bytes: "FFFFFF")
        #expect(throws: EncodeError(.invalidBase64, path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "8j"], mid: 1)
        }
        #expect(throws: EncodeError(.wrongType(expected: "string", found: "integer"), path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": 5], mid: 1)
        }
    }

    @Test func variantFromEmptyToMaximum() throws {
        let codec = try Self.codec(type: "variant", propertyType: "string", extra: "length = 3")
        try Self.roundTrip(codec, "", bytes: "0000")
        try Self.roundTrip(codec, "AQID", bytes: "0003010203")
        #expect(throws: EncodeError(.tooLong(length: 4, maximum: 3), path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "AQIDBA=="], mid: 1)
        }
    }

    @Test func decimalsScaleIntegers() throws {
        let codec = try Self.codec(type: "int16s", propertyType: "decimal", extra: "decimals = 2")
        try Self.roundTrip(codec, .double(-327.68), bytes: "8000")
        try Self.roundTrip(codec, .double(327.67), bytes: "7FFF")
        try Self.roundTrip(codec, .double(0.01), bytes: "0001")
        #expect(throws: EncodeError.self) { try codec.encode(command: "CMD", paras: ["v": .double(327.68)], mid: 1) }
    }

    @Test func booleanFromInteger() throws {
        let codec = try Self.codec(type: "int8u", propertyType: "boolean")
        try Self.roundTrip(codec, true, bytes: "01")
        try Self.roundTrip(codec, false, bytes: "00")
        #expect(try codec.decode([0x02]) == .report(DecodedReport(message: "r", services: [
            ServiceReport(serviceId: "S", properties: ["v": true]),
        ])))
    }

    @Test func stringFieldForDecimalProperty() throws {
        let codec = try Self.codec(type: "string", propertyType: "decimal", extra: "length = 5")
        try Self.roundTrip(codec, .double(12.5), bytes: "31322E3500")
        #expect(throws: DecodeError(.notANumber(field: "v", text: "abc"), offset: 0)) { try codec.decode(hex("6162630000")) }
    }

    @Test func arrayForAnIntPropertyIsStillBase64() throws {
        // The platform's table lets int properties take arrays; the JSON value stays Base64.
        let codec = try Self.codec(type: "array", propertyType: "int", extra: "length = 2")
        try Self.roundTrip(codec, "AQI=", bytes: "0102")
        #expect(throws: EncodeError(.wrongType(expected: "Base64 string", found: "integer"), path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": 258], mid: 1)
        }
    }
}
