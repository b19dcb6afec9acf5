import DeviceCodec
import Foundation
import GatewayCore
import TestSupport
import Testing

/// Frames worth keeping (each message, each way a frame can be wrong), replayed on every run
/// and used as seeds by the fuzz test. One file per frame in Corpus/, hex with `#` comments;
/// the name's prefix says what the water-meter codec must make of it:
/// `report-`, `response-`, `raw-` (RawData) or `rejected-`.
@Suite struct CorpusTests {
    struct Entry {
        var name: String
        var bytes: [UInt8]
    }

    static var directory: String { Paths.packageRoot + "/Tests/DeviceCodecTests/Corpus" }

    static func corpus() throws -> [Entry] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".hex") }.sorted()
        return try names.map { name in
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            let data = text.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .joined()
            return Entry(name: name, bytes: hex(String(data)))
        }
    }

    @Test func corpusIsThere() throws {
        #expect(try Self.corpus().count >= 10)
    }

    @Test func everyCorpusFrameGetsItsExpectedTreatment() throws {
        let codec = try CodecFixture.waterMeter()
        for entry in try Self.corpus() {
            let outcome = ProductCodec.classify(entry.bytes, codec: codec)
            switch outcome {
            case .report: #expect(entry.name.hasPrefix("report-"), "\(entry.name): \(outcome)")
            case .commandResponse: #expect(entry.name.hasPrefix("response-"), "\(entry.name): \(outcome)")
            case .rawData: #expect(entry.name.hasPrefix("raw-"), "\(entry.name): \(outcome)")
            case .rejected: #expect(entry.name.hasPrefix("rejected-"), "\(entry.name): \(outcome)")
            }
        }
    }
}
