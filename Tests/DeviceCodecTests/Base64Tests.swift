import Foundation
import Testing
import TestSupport
@testable import DeviceCodec

/// The one Base64 rule for arrays and variants in JSON (docs/codec.md, "Base64"): the standard
/// alphabet, `=` padding optional but exact when given, no other characters, and zero unused
/// bits in the last character.
@Suite struct Base64Tests {
    @Test func acceptsPaddedAndUnpaddedAlike() {
        #expect(StrictBase64.decode("") == [])
        #expect(StrictBase64.decode("AQ") == [0x01])
        #expect(StrictBase64.decode("AQ==") == [0x01])
        #expect(StrictBase64.decode("AQI") == [0x01, 0x02])
        #expect(StrictBase64.decode("AQI=") == [0x01, 0x02])
        #expect(StrictBase64.decode("AQID") == [0x01, 0x02, 0x03])
        #expect(StrictBase64.decode("+/+/") == [0xFB, 0xFF, 0xBF])
        #expect(StrictBase64.decode("fgEC") == [0x7E, 0x01, 0x02])
    }

    @Test func refusesEverythingElse() {
        for text in ["=", "==", "=====", "A", "A===", "AQ=", "AQ===", "AQI==", "AQID=", "AQID====", "AQ==AQ==", "A=Q=",
                     "AQ I=", " AQ==", "AQ==\n", "-_-_", "AQ\u{00E9}", "8j", "AR==", "AQJ=", "AQJ"] {
            #expect(StrictBase64.decode(text) == nil, "\(text.debugDescription)")
        }
    }

    /// Whatever Foundation encodes, the rule decodes back, with or without its padding.
    @Test func roundTripsEveryLength() {
        var random = SplitMix64(seed: 26)
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next() as UInt64) }
            let padded = Data(bytes).base64EncodedString()
            #expect(StrictBase64.decode(padded) == bytes, "\(padded)")
            #expect(StrictBase64.decode(String(padded.filter { $0 != "=" })) == bytes, "\(padded)")
        }
    }

    @Test func theCodecUsesTheRule() throws {
        let codec = try #require(CodecFixture(arrayCommandProduct(parameter: "v", length: 2)).codec)
        #expect(try codec.encode(command: "CMD", paras: ["v": "AQ"], mid: 1) == [0x01, 0x00])
        #expect(try codec.encode(command: "CMD", paras: ["v": "AQ=="], mid: 1) == [0x01, 0x00])
        #expect(throws: EncodeError(.invalidBase64, path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "====="], mid: 1)
        }
        #expect(throws: EncodeError(.invalidBase64, path: "paras.v")) {
            try codec.encode(command: "CMD", paras: ["v": "AQ="], mid: 1)
        }
    }
}
