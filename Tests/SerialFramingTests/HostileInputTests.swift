import GatewayCore
import Testing
import TestSupport
@testable import SerialFraming

/// What a broken or malicious line sends: no frame comes out that was not sent, the counters
/// say what happened, and the buffer stays within its bound.
@Suite struct HostileInputTests {
    static let layouts = [Fixture.sensorLayout, Fixture.hdlcLayout, Fixture.fixedLayout, ByteStuffingTests.slipLayout,
                          "[framing]\nstart = \"02\"\nend = \"03\"\n[framing.checksum]\ntype = \"crc16_modbus\""]

    /// Noise only: nothing accepted, every byte counted as discarded, the buffer bounded.
    @Test(arguments: layouts)
    func noiseOnly(toml: String) throws {
        let spec = try Fixture.spec(toml)
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        var random = SplitMix64(seed: 7)
        var events: [FramerEvent] = []
        var flags = 0
        for _ in 0..<500 {
            let noise = random.bytes(200)
            flags += noise.filter { $0 == spec.start.first }.count
            events += framer.feed(noise)
            #expect(framer.bufferedBytes < spec.maxFrameBytes)
        }
        events += framer.reset()
        #expect(events.frames.isEmpty)
        #expect(framer.counters.frames == 0)
        #expect(events.discardedBytes == framer.counters.discardedBytes)
        if spec.sharesFlag {
            // Two flags in a row are idle fill, not noise: they are dropped uncounted.
            #expect(framer.counters.discardedBytes <= 100_000 && framer.counters.discardedBytes >= 100_000 - flags)
        } else {
            #expect(framer.counters.discardedBytes == 100_000)
        }
    }

    @Test func wrongChecksumThenAGoodFrame() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: nil)
        let good = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        var bad = good
        bad[5] ^= 0x01
        let events = framer.feed(bad + good)
        #expect(events == [.rejected(.checksum), .discarded(bytes: 9), .frame(ReceivedFrame(bytes: good, payloadRange: 4..<7, address: 7))])
        #expect(framer.counters.checksumFailures == 1)
        #expect(framer.counters.resyncs == 1)
    }

    /// Every single-bit error of a frame is caught (a CRC catches all of them).
    @Test func everySingleBitErrorIsRejected() throws {
        for toml in [Fixture.sensorLayout, Fixture.hdlcLayout, Fixture.fixedLayout] {
            let spec = try Fixture.spec(toml)
            let wire = try FrameEncoder(spec: spec).encode(payload: [0x10, 0x7E, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80],
                                                           address: spec.addressOffset == nil ? nil : 9)
            for bit in 0..<(wire.count * 8) {
                var corrupt = wire
                corrupt[bit / 8] ^= 1 << UInt8(bit % 8)
                var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
                let events = framer.feed(corrupt) + framer.reset()
                #expect(events.frames.isEmpty, "bit \(bit)")
            }
        }
    }

    /// A truncated frame followed by a whole one: the cut candidate fails, the whole one is found.
    @Test func truncatedFrameThenAGoodOne() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: nil)
        let good = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        let events = framer.feed(Array(good.prefix(6)) + good)
        #expect(events.frames.map(\.bytes) == [good])
        #expect(events.rejections == [.checksum])
        #expect(framer.counters.discardedBytes == 6)
    }

    /// A declared length beyond max_frame_bytes is refused as soon as the field is in.
    @Test func oversizedLengthIsRefusedAtOnce() throws {
        let spec = try FramingSpec(start: [0xAA, 0x55], lengthField: .init(offset: 2, size: 2), maxFrameBytes: 256,
                                   checksum: .init(type: .crc16Modbus))
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect(framer.feed([0xAA, 0x55, 0x01]).isEmpty)
        #expect(framer.feed([0x00]) == [.rejected(.oversized), .discarded(bytes: 4)])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.counters.oversized == 1)
        // A whole-frame length too short for the header and checksum: refused the same way.
        let counted = try FramingSpec(start: [0xAA, 0x55], lengthField: .init(offset: 2, size: 2, counts: .frame),
                                      checksum: .init(type: .crc16Modbus))
        var countedFramer = Framer<OffsetInstant>(spec: counted, gap: nil)
        #expect(countedFramer.feed([0xAA, 0x55, 0x00, 0x05]).rejections == [.badLength])
        #expect(countedFramer.counters.badLength == 1)
    }

    /// Start sequences without end, back to back: each candidate fails within the bound; the
    /// buffer never holds more than max_frame_bytes plus one read.
    @Test func babblingStartsWithoutEnd() throws {
        let spec = try Fixture.spec("[framing]\nstart = \"02\"\nend = \"03\"\nmax_frame_bytes = 64\n[framing.checksum]\ntype = \"crc16_modbus\"")
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        var events: [FramerEvent] = []
        for index in 0..<2000 {
            events += framer.feed(index % 2 == 0 ? [0x02, 0x02, 0x41] : [0x41, 0x42, 0x43])
            #expect(framer.bufferedBytes < 64)
        }
        #expect(events.frames.isEmpty)
        #expect(framer.counters.oversized > 0)
        #expect(framer.counters.frames == 0)
        let good = try FrameEncoder(spec: spec).encode(payload: [0x01])
        #expect((framer.feed(good) + framer.reset()).frames.map(\.bytes) == [good])
    }

    /// One read far larger than the bound: frames in it are still found.
    @Test func oneHugeRead() throws {
        let spec = try Fixture.spec(Fixture.sensorLayout)
        let encoder = FrameEncoder(spec: spec)
        var random = SplitMix64(seed: 3)
        var stream: [UInt8] = []
        var sent: [[UInt8]] = []
        for index in 0..<100 {
            stream += random.bytes(300)
            sent.append(try encoder.encode(payload: random.bytes(index % 50), address: 1))
            stream += sent[index]
        }
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect((framer.feed(stream) + framer.reset()).frames.map(\.bytes) == sent)
        #expect(framer.bufferedBytes == 0)
    }

    /// Many forged headers in a row, each declaring the longest frame: every one is tried and
    /// dropped, and the real frame among them still comes out.
    @Test func forgedHeadersAroundARealFrame() throws {
        let spec = try Fixture.spec(Fixture.sensorLayout)
        let good = try FrameEncoder(spec: spec).encode(payload: [0x42], address: 3)
        let forged = (0..<50).flatMap { _ in Fixture.bytes("AA 55 00 FF") }
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        let events = framer.feed(forged + good + forged) + framer.reset()
        #expect(events.frames.map(\.bytes) == [good])
        #expect(framer.counters.frames == 1)
    }
}
