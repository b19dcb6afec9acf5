import DeviceCodec
import Foundation
import GatewayCore
import Testing
import TestSupport

/// Seeded random inputs against the decoders: mutations of valid frames and random bytes.
/// The decoder must never crash, must answer with a report or a typed error, and whatever it
/// accepts must re-encode to a frame that decodes to the same values.
@Suite struct DecoderFuzzTests {
    /// Every run: about 5 s in a debug build on the 2-core build machine.
    static let defaultIterations = 200_000
    static let seed: UInt64 = 0xED6E_6A7E_C0DE_C0DE
    /// `EDGEGW_FUZZ_ITERATIONS=1000000 swift test --filter DecoderFuzzTests` runs the long
    /// campaign (1,000,000 inputs took 27 s in a debug build there), with its own seed.
    static let longRunIterations = ProcessInfo.processInfo.environment["EDGEGW_FUZZ_ITERATIONS"].flatMap(Int.init)
    static let longRunSeed: UInt64 = 0x5EED_0F_1000_0000

    struct Tally {
        var decoded = 0
        var rawData = 0
        var rejected = 0
        var errorKinds = Set<String>()
    }

    @Test func decoderSurvivesSeededRandomInputs() throws {
        try Self.run(iterations: Self.defaultIterations, seed: Self.seed)
    }

    @Test(.enabled(if: longRunIterations != nil, "set EDGEGW_FUZZ_ITERATIONS for the long run"))
    func longRun() throws {
        try Self.run(iterations: Self.longRunIterations ?? 0, seed: Self.longRunSeed)
    }

    static func run(iterations: Int, seed: UInt64) throws {
        let codec = try CodecFixture.waterMeter()
        let seeds = try Self.seedFrames(codec)
        var random = SplitMix64(seed: seed)
        var tally = Tally()
        let started = Date()
        for index in 0..<iterations {
            let input = Self.input(from: seeds, using: &random)
            switch ProductCodec.classify(input, codec: codec) {
            case .report(let report):
                tally.decoded += 1
                // Re-encode what was accepted (rarely: it is the expensive path) and compare.
                // A device may report values outside the product model's min/max; the device-side
                // encoder refuses those, so only in-range reports are re-encoded.
                if index % 16 == 0, let again = try Self.reencode(report, codec) {
                    #expect(try codec.decode(again) == .report(report), "seed \(seed) input \(index): \(hexString(input))")
                }
            case .commandResponse(let response):
                tally.decoded += 1
                if index % 16 == 0 {
                    let again = try codec.encodeCommandResponse(command: response.command, serviceId: response.serviceId,
                                                                mid: response.mid, errcode: response.errcode ?? 0,
                                                                paras: response.paras)
                    #expect(try codec.decode(again) == .commandResponse(response), "input \(index): \(hexString(input))")
                }
            case .rawData(let raw):
                tally.rawData += 1
                #expect(raw.serviceId == RawData.serviceId)
            case .rejected(let error):
                tally.rejected += 1
                #expect(error.offset >= 0 && error.offset <= max(input.count, ProductCodec.maximumFrameBytes))
                tally.errorKinds.insert(Self.kindName(error.kind))
            }
            // The device side decodes too (simulators): it must be as robust (every 4th input: it
            // shares the field decoder, only message selection differs).
            if index % 4 == 0 { _ = try? codec.decodeDownlink(input) }
        }
        let seconds = Date().timeIntervalSince(started)
        print("decoder fuzz (seed \(String(seed, radix: 16))): \(iterations) inputs in \(String(format: "%.1f", seconds)) s, decoded \(tally.decoded), RawData \(tally.rawData), rejected \(tally.rejected), error kinds \(tally.errorKinds.sorted())")
        // The generator must reach every path, or the run proves little.
        #expect(tally.decoded > iterations / 20)
        #expect(tally.rawData > 0)
        #expect(tally.rejected > iterations / 20)
        if iterations >= 100_000 {
            #expect(tally.errorKinds.isSuperset(of: ["truncated", "trailingBytes", "lengthTooLarge", "notASCII",
                                                     "notFinite", "frameTooLong", "emptyFrame"]))
        }
    }

    static func reencode(_ report: DecodedReport, _ codec: ProductCodec) throws -> [UInt8]? {
        do {
            return try codec.encodeReport(message: report.message, services: report.services)
        } catch {
            if case .outOfRange = error.kind { return nil }
            throw error
        }
    }

    // MARK: - Inputs

    /// Valid frames of every uplink message, plus the corpus.
    static func seedFrames(_ codec: ProductCodec) throws -> [[UInt8]] {
        var frames: [[UInt8]] = [
            hex("01 04D2 0001E240 FF9C 3F800000"),
            hex("025A0172B50001234500003132333435363738 04 56312E30"),
            hex("025A0172B50001234500003132333435363738 20") + [UInt8](repeating: 0x41, count: 32),
            hex("03 0001 00 00000E10"),
            hex("04 FFFF 01 01"),
        ]
        frames += try CorpusTests.corpus().map(\.bytes)
        return frames
    }

    static func input(from seeds: [[UInt8]], using random: inout SplitMix64) -> [UInt8] {
        switch random.next() % 8 {
        case 0:
            // Random bytes; the first byte often a real messageId so decoding goes deep.
            var bytes = (0..<Int(random.next() % 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !bytes.isEmpty, random.next() % 2 == 0 { bytes[0] = UInt8(1 + random.next() % 4) }
            return bytes
        case 1:
            if random.next() % 64 == 0 {   // now and then, far too long
                return [UInt8](repeating: 0x01, count: ProductCodec.maximumFrameBytes + 1 + Int(random.next() % 8))
            }
            return seeds[Int(random.next() % UInt64(seeds.count))]
        default:
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...(random.next() % 3) { mutate(&bytes, using: &random) }
            return bytes
        }
    }

    static func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 7 {
        case 0: if !bytes.isEmpty { bytes[position] ^= UInt8(1) << (random.next() % 8) }
        case 1: if !bytes.isEmpty { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
        case 2: if !bytes.isEmpty { bytes[position] = [0x00, 0x7F, 0x80, 0xFF][Int(random.next() % 4)] }
        case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 4: if !bytes.isEmpty { bytes.remove(at: position) }
        case 5: bytes.removeLast(Int(random.next() % UInt64(bytes.count + 1)))
        default: bytes += (0..<Int(random.next() % 6)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
    }

    static func kindName(_ kind: DecodeError.Kind) -> String {
        switch kind {
        case .truncated: "truncated"
        case .trailingBytes: "trailingBytes"
        case .frameTooLong: "frameTooLong"
        case .emptyFrame: "emptyFrame"
        case .unknownMessageId: "unknownMessageId"
        case .lengthTooLarge: "lengthTooLarge"
        case .notASCII: "notASCII"
        case .notFinite: "notFinite"
        case .notANumber: "notANumber"
        case .noMessages: "noMessages"
        }
    }
}
