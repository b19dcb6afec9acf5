import Foundation
import Testing
import TestSupport

/// `edgegw codec encode` takes Base64 by the one rule of docs/codec.md.
extension CodecCLITests {
    static let arrayProduct = productHeader(properties: [], paras: [("data", "string")], responses: []) + """
        [[codec.downlink]]
        name = "c"
        kind = "command"
        message_id = 0x05
        command = "CMD"

        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "data"
        type = "array"
        length = 2
        """

    @Test func encodeTakesBase64ByOneRule() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("array.toml", Self.arrayProduct)
        func encode(_ base64: String) throws -> CodecCLI.Result {
            try CodecCLI.run(["codec", "encode", "--product", path, "--command", "CMD", "--paras", #"{"data":"\#(base64)"}"#])
        }
        for accepted in ["AQ", "AQ=="] {
            let result = try encode(accepted)
            #expect(result.status == 0, "\(accepted): \(result.stderr)")
            #expect(result.stdout.contains(#""hex":"050100""#), "\(accepted): \(result.stdout)")
        }
        for refused in ["=====", "AQ=", "AQ==="] {
            let result = try encode(refused)
            #expect(result.status == 1, "\(refused): \(result.stdout)")
            #expect(result.stderr.contains("paras.data: not valid Base64"), "\(refused): \(result.stderr)")
        }
    }

    @Test func encodeHelpStatesTheBase64Rule() throws {
        let result = try CodecCLI.run(["codec", "encode", "--help"])
        #expect(result.status == 0)
        let help = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("Base64"), "\(result.stdout)")
        #expect(help.contains("A-Z a-z 0-9 + /"), "\(result.stdout)")
        #expect(help.contains("padding is optional"), "\(result.stdout)")
    }
}
