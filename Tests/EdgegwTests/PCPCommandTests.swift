import Foundation
import Testing
import TestSupport

/// `edgegw pcp decode` and `edgegw pcp encode`, black-box against the built binary.
@Suite struct PCPCommandTests {
    func run(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let process = try ChildProcess(Paths.edgegwBinary, ["pcp"] + arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        return (status, process.text)
    }

    func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
    }

    @Test func decodesAGoldenFrameInBothReadings() async throws {
        // Spec §2.8 row 2 (the 0x13 answer, "V0.9"), pasted with spaces and colons.
        let (status, output) = try await run(["decode", "FF FE:01:13 8D E3 00 11", "0056302E39000000000000000000000000"])
        #expect(status == 0, "\(output)")
        let frame = try json(output)
        #expect(frame["pcp"] as? Bool == true)
        #expect(frame["code"] as? Int == 19)
        #expect(frame["code_hex"] as? String == "0x13")
        #expect(frame["name"] as? String == "query device version")
        let crc = try #require(frame["crc"] as? [String: Any])
        #expect(crc["ok"] as? Bool == true && crc["stored"] as? String == "0x8DE3" && crc["computed"] as? String == "0x8DE3")
        let device = try #require(frame["from_device"] as? [String: Any], "\(output)")
        #expect(device["message"] as? String == "version_report")
        #expect(device["version"] as? String == "V0.9")
        let result = try #require(device["result"] as? [String: Any])
        #expect(result["code"] as? Int == 0 && result["meaning"] as? String == "success")
        // From the platform a 0x13 carries no data: that reading says why it does not fit.
        let platform = try #require(frame["from_platform"] as? [String: Any], "\(output)")
        #expect((platform["error"] as? String)?.contains("not 17 bytes") == true, "\(output)")
    }

    @Test func decodesAFragmentFromThePlatformOnly() async throws {
        let (status, output) = try await run(["decode", "--from", "platform",
                                              "FFFE0115E107001300000048454C4C4F2C20496F5420534F544121"])
        #expect(status == 0, "\(output)")
        let frame = try json(output)
        #expect(frame["from_device"] == nil)
        let platform = try #require(frame["from_platform"] as? [String: Any], "\(output)")
        #expect(platform["message"] as? String == "fragment")
        #expect(platform["index"] as? Int == 0)
        #expect(platform["data"] as? String == "48454C4C4F2C20496F5420534F544121")
    }

    @Test func namesTheFailedRecognitionStepOfANonPCPPayload() async throws {
        // The 0x14 example as printed: its checksum 02F7 is wrong (the frame's CRC16 is 3AE6).
        let (status, output) = try await run(["decode", "FFFE011402F7001656312E3000000000000000000000000001F400010000"])
        #expect(status == 0, "\(output)")
        let frame = try json(output)
        #expect(frame["pcp"] as? Bool == false)
        let recognition = try #require(frame["recognition"] as? [String: Any], "\(output)")
        #expect(recognition["failed_step"] as? Int == 6)
        #expect(recognition["check"] as? String == "checksum")
        #expect((recognition["reason"] as? String)?.contains("0x3AE6") == true, "\(output)")
        let crc = try #require(frame["crc"] as? [String: Any])
        #expect(crc["ok"] as? Bool == false && crc["stored"] as? String == "0x02F7" && crc["computed"] as? String == "0x3AE6")

        // A water meter's business data: step 3.
        let (_, business) = try await run(["decode", "01 04D2 0001E240"])
        let data = try json(business)
        #expect(data["pcp"] as? Bool == false)
        #expect((data["recognition"] as? [String: Any])?["failed_step"] as? Int == 3, "\(business)")
    }

    @Test func encodesTheGoldenFrames() async throws {
        let cases: [([String], String)] = [
            (["--code", "19"], "FFFE01134C9A0000"),
            (["--code", "20", "--version", "V1.0", "--fragment-size", "500", "--fragment-count", "1"],
             "FFFE01143AE6001656312E3000000000000000000000000001F400010000"),
            (["--code", "21", "--version", "V1.0", "--index", "0"], "FFFE01155618001256312E300000000000000000000000000000"),
            (["--code", "21", "--result", "0", "--index", "0", "--data", "48454C4C4F2C20496F5420534F544121"],
             "FFFE0115E107001300000048454C4C4F2C20496F5420534F544121"),
            (["--code", "22", "--result", "0"], "FFFE0116850E000100"),
            (["--code", "22", "--result", "0", "--from", "platform"], "FFFE0116850E000100"),
            (["--code", "24", "--result", "0", "--version", "V1.0"], "FFFE0118C7D200110056312E30000000000000000000000000"),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try await run(["encode"] + arguments)
            #expect(status == 0, "\(arguments): \(output)")
            #expect(output == expected + "\n", "\(arguments)")
        }
    }

    @Test func anImpossibleCombinationIsOneClearLine() async throws {
        let cases: [([String], String)] = [
            (["--code", "20", "--version", "V1.0", "--fragment-size", "500"], "needs --fragment-count"),
            (["--code", "19", "--index", "3"], "--index does not apply to code 19"),
            (["--code", "25"], "--code 25 is not a PCP message code"),
            (["--version", "V1.0"], "missing --code"),
            (["--code", "21", "--result", "129", "--index", "9", "--data", "01"], "carries no data"),
            (["--code", "24", "--result", "0", "--version", "0123456789ABCDEFG"], "the field holds 16"),
            (["--code", "22", "--result", "256"], "--result 256 is not a result byte"),
            (["--code", "17", "--from", "device", "--result", "0"], "not a PCP message code"),
            (["--code", "23", "--from", "platform", "--result", "0"], "--result does not apply to code 23"),
        ]
        for (arguments, needle) in cases {
            let (status, output) = try await run(["encode"] + arguments)
            #expect(status == 1, "\(arguments): \(output)")
            #expect(output.hasPrefix("edgegw pcp encode: "), "\(arguments): \(output)")
            #expect(output.contains(needle), "\(arguments): \(output)")
            #expect(output.split(separator: "\n").count == 1, "\(arguments): \(output)")
        }
        let (status, output) = try await run(["decode", "FFFE0G"])
        #expect(status == 1, "\(output)")
        #expect(output.hasPrefix("edgegw pcp decode: ") && output.contains("is not hex"), "\(output)")
    }
}
