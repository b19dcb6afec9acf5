import Foundation
import TestSupport
import Testing

/// `edgegw codec` as a technician runs it.
enum CodecCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Output goes to files, read after the exit: no pipe to drain and no thread blocked
    /// meanwhile (the exit is awaited, see `ProcessSpawning`).
    static func run(_ arguments: [String]) async throws -> Result {
        let directory = TemporaryDirectory(prefix: "edgegw-codec-cli")
        let outPath = directory.file("stdout"), errPath = directory.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.edgegwBinary)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try ProcessSpawning.run(process)
        try? out.close()
        try? err.close()
        guard let status = await ProcessSpawning.exitStatus(of: process, timeout: .seconds(60)) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.executableLoad)
        }
        let stdout = FileManager.default.contents(atPath: outPath) ?? Data()
        let stderr = FileManager.default.contents(atPath: errPath) ?? Data()
        return Result(status: status, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

}

@Suite struct CodecCLITests {
    let product = CodecFixture.waterMeterPath

    @Test func decodesAReport() async throws {
        let result = try await CodecCLI.run(["codec", "decode", "--product", product, "01 04D2 0001E240", "FF9C 3F800000"])
        #expect(result.status == 0)
        #expect(result.stdout == """
        {"message":"meterReading","kind":"report","services":[{"service_id":"WaterMeterBasic","properties":{"flow":12.34,"totalFlow":123.456,"temperature":-10.0,"pressure":1.0}}],"report_response":"8000"}

        """)
    }

    @Test func truncatedFrameIsAnErrorWithItsOffset() async throws {
        let result = try await CodecCLI.run(["codec", "decode", "--product", product, "0104D2"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("at byte 3: frame is truncated"))
    }

    @Test func unknownMessageShowsTheRawDataFallback() async throws {
        let result = try await CodecCLI.run(["codec", "decode", "--product", product, "7E0102"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"{"service_id":"RawData","properties":{"rawData":"fgEC"}}"#))
    }

    @Test func encodesACommand() async throws {
        let result = try await CodecCLI.run(["codec", "encode", "--product", product, "--command", "SET_INTERVAL",
                                   "--paras", #"{"interval":3600}"#, "--mid", "258"])
        #expect(result.status == 0)
        #expect(result.stdout.contains(#""hex":"81010200000E10""#))
    }

    @Test func badParasNameTheJSONPath() async throws {
        let result = try await CodecCLI.run(["codec", "encode", "--product", product, "--command", "SET_INTERVAL",
                                   "--paras", #"{"interval":30}"#])
        #expect(result.status == 1)
        #expect(result.stderr.contains("paras.interval: interval=30 is below its minimum 60"))
    }

    @Test func brokenProductFileNamesFileAndLine() async throws {
        let directory = TemporaryDirectory()
        let original = try String(contentsOfFile: product, encoding: .utf8)
        let line = try #require(CodecFixture.line(of: "message_id = 0x02", in: original))
        let path = directory.write("bad.toml", original.replacingOccurrences(of: "message_id = 0x02", with: "message_id = 0x01"))
        let result = try await CodecCLI.run(["codec", "decode", "--product", path, "01"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path):\(line): codec.uplink[1].message_id: message_id 1 is also used by \"meterReading\""))
    }
}
