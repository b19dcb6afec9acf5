import DeviceCodec
import Foundation
import GatewayCore
import Testing

/// Hostile or broken frames and commands: a typed error with the byte offset or JSON path,
/// never a crash and never part of a report.
@Suite struct BadInputTests {
    let codec: ProductCodec

    init() throws { codec = try CodecFixture.waterMeter() }

    @Test func truncatedFrameNamesTheByte() {
        // meterReading is 13 bytes; cut inside totalFlow (bytes 3…6).
        #expect(throws: DecodeError(.truncated(needed: 4, available: 2), offset: 3)) {
            try codec.decode(hex("01 04D2 0001"))
        }
        #expect(throws: DecodeError(.truncated(needed: 2, available: 1), offset: 1)) {
            try codec.decodeDownlink(hex("81 00"))
        }
    }

    @Test func emptyFrame() {
        #expect(throws: DecodeError(.emptyFrame, offset: 0)) { try codec.decode([]) }
    }

    @Test func overLongFrameNamesTheFirstExtraByte() {
        #expect(throws: DecodeError(.trailingBytes(count: 2), offset: 13)) {
            try codec.decode(hex("01 04D2 0001E240 FF9C 3F800000 AAAA"))
        }
    }

    @Test func framesAboveTheLimitAreRefusedBeforeReading() {
        let frame = [UInt8](repeating: 0x01, count: ProductCodec.maximumFrameBytes + 1)
        #expect(throws: DecodeError(.frameTooLong(length: ProductCodec.maximumFrameBytes + 1),
                                    offset: ProductCodec.maximumFrameBytes)) { try codec.decode(frame) }
        #expect(ProductCodec.maximumFrameBytes == 1024)
    }

    @Test func unknownMessageId() {
        #expect(throws: DecodeError(.unknownMessageId(0x7E), offset: 0)) { try codec.decode([0x7E, 0x00]) }
    }

    @Test func varstringLengthBeyondTheFrame() {
        // status with firmwareLength 0x20 but only 4 text bytes.
        #expect(throws: DecodeError(.truncated(needed: 32, available: 4), offset: 20)) {
            try codec.decode(hex("025A0172B50001234500003132333435363738 20 56312E30"))
        }
    }

    @Test func varstringLengthAboveItsMaximum() {
        #expect(throws: DecodeError(.lengthTooLarge(field: "firmware", length: 33, maximum: 32), offset: 19)) {
            try codec.decode(hex("025A0172B50001234500003132333435363738 21") + [UInt8](repeating: 0x41, count: 33))
        }
    }

    @Test func nonASCIIStringByte() {
        #expect(throws: DecodeError(.notASCII(field: "serial", byte: 0xC3), offset: 12)) {
            try codec.decode(hex("025A0172B500012345000031C33334353637380456312E30"))
        }
    }

    // MARK: Commands from the cloud

    @Test func wrongJSONTypeNamesThePath() {
        #expect(throws: EncodeError(.wrongType(expected: "integer", found: "string"), path: "paras.interval")) {
            try codec.encode(command: "SET_INTERVAL", paras: ["interval": "3600"], mid: 1)
        }
        #expect(throws: EncodeError(.wrongType(expected: "boolean", found: "integer"), path: "paras.open")) {
            try codec.encode(command: "SET_VALVE", paras: ["open": 2], mid: 1)
        }
    }

    @Test func outOfRangePerTheProductModel() {
        #expect(throws: EncodeError(.outOfRange("interval=59 is below its minimum 60"), path: "paras.interval")) {
            try codec.encode(command: "SET_INTERVAL", paras: ["interval": 59], mid: 1)
        }
        #expect(throws: EncodeError(.outOfRange("interval=86401 is above its maximum 86400"), path: "paras.interval")) {
            try codec.encode(command: "SET_INTERVAL", paras: ["interval": 86401], mid: 1)
        }
        #expect(throws: EncodeError(.outOfRange("label is longer than 64 bytes"), path: "paras.label")) {
            try codec.encode(command: "SET_LABEL", paras: ["label": .string(String(repeating: "a", count: 65))], mid: 1)
        }
    }

    @Test func unknownMissingAndAmbiguous() {
        #expect(throws: EncodeError(.unknownParameter, path: "paras.intervall")) {
            try codec.encode(command: "SET_INTERVAL", paras: ["interval": 60, "intervall": 60], mid: 1)
        }
        #expect(throws: EncodeError(.missingParameter, path: "paras.interval")) {
            try codec.encode(command: "SET_INTERVAL", paras: [:], mid: 1)
        }
        #expect(throws: EncodeError(.unknownCommand, path: "REBOOT")) {
            try codec.encode(command: "REBOOT", paras: [:], mid: 1)
        }
        #expect(throws: EncodeError(.unknownCommand, path: "SET_INTERVAL")) {
            try codec.encode(command: "SET_INTERVAL", serviceId: "Battery", paras: ["interval": 60], mid: 1)
        }
    }

    @Test func invalidBase64IsAnErrorNotGarbage() throws {
        let codec = try #require(CodecFixture(arrayCommandProduct(parameter: "cdat123", length: 4)).codec)
        // The platform's own log example (spec lwm2m-coap §6.3): '8j' is not Base64.
        #expect(throws: EncodeError(.invalidBase64, path: "paras.cdat123")) {
            try codec.encode(command: "CMD", paras: ["cdat123": "8j"], mid: 3)
        }
        #expect(try codec.encode(command: "CMD", paras: ["cdat123": "AQI="], mid: 3) == [1, 2, 0, 0])
    }

    @Test func defaultsFillMissingParameters() throws {
        let text = productHeader(properties: [], paras: [("p", "int"), ("q", "int")], responses: []) + """
        [[codec.downlink]]
        name = "c"
        kind = "command"
        command = "CMD"

        [[codec.downlink.fields]]
        name = "magic"
        type = "int16u"
        default = "0xA55A"
        map = false

        [[codec.downlink.fields]]
        name = "p"
        type = "int8s"
        default = "FF"

        [[codec.downlink.fields]]
        name = "q"
        type = "int8u"
        """
        let codec = try #require(CodecFixture(text).codec)
        #expect(try codec.encode(command: "CMD", paras: ["q": 7], mid: 1) == [0xA5, 0x5A, 0xFF, 0x07])
        guard case .command(let decoded) = try codec.decodeDownlink([0xA5, 0x5A, 0xFF, 0x07]) else {
            Issue.record("not a command"); return
        }
        #expect(decoded.paras == ["p": -1, "q": 7])
        #expect(decoded.mid == nil)
    }

    // MARK: RawData

    @Test func bytesMatchingNoMessageBecomeRawData() {
        let bytes: [UInt8] = [0x7E, 0x01, 0x02]
        let raw = ServiceReport(serviceId: "RawData", properties: ["rawData": "fgEC"])
        #expect(ProductCodec.classify(bytes, codec: codec) == .rawData(raw))
        #expect(RawData.report(bytes) == raw)
    }

    @Test func withoutACodecEverythingIsRawData() {
        let bytes: [UInt8] = [0x01, 0x04, 0xD2]
        #expect(ProductCodec.classify(bytes, codec: nil) == .rawData(ServiceReport(serviceId: "RawData",
                                                                                   properties: ["rawData": "AQTS"])))
    }

    @Test func malformedFramesOfKnownMessagesAreRejectedWhole() {
        #expect(ProductCodec.classify(hex("01 04D2"), codec: codec)
                == .rejected(DecodeError(.truncated(needed: 4, available: 0), offset: 3)))
    }

    @Test func goodFramesAreDecoded() throws {
        guard case .report(let report) = ProductCodec.classify(hex("01 04D2 0001E240 FF9C 3F800000"), codec: codec) else {
            Issue.record("expected a report"); return
        }
        #expect(report.message == "meterReading")
    }
}
