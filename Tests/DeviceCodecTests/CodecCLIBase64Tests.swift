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

    /// Runs `edgegw` without holding a test thread while it runs; stdout and stderr together.
    static func run(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let process = try ChildProcess(Paths.edgegwBinary, arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        return (status, process.text)
    }

    @Test func encodeTakesBase64ByOneRule() async throws {
        let directory = TemporaryDirectory()
        let path = directory.write("array.toml", Self.arrayProduct)
        func encode(_ base64: String) async throws -> (status: Int32?, output: String) {
            try await Self.run(["codec", "encode", "--product", path, "--command", "CMD", "--paras", #"{"data":"\#(base64)"}"#])
        }
        for accepted in ["AQ", "AQ=="] {
            let result = try await encode(accepted)
            #expect(result.status == 0, "\(accepted): \(result.output)")
            #expect(result.output.contains(#""hex":"050100""#), "\(accepted): \(result.output)")
        }
        for refused in ["=====", "AQ=", "AQ==="] {
            let result = try await encode(refused)
            #expect(result.status == 1, "\(refused): \(result.output)")
            #expect(result.output.contains("paras.data: not valid Base64"), "\(refused): \(result.output)")
        }
    }

    @Test func encodeHelpStatesTheBase64Rule() async throws {
        let result = try await Self.run(["codec", "encode", "--help"])
        #expect(result.status == 0)
        let help = result.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("Base64"), "\(result.output)")
        #expect(help.contains("A-Z a-z 0-9 + /"), "\(result.output)")
        #expect(help.contains("padding is optional"), "\(result.output)")
    }
}
