import GatewayCore
import Testing
import TestSupport
@testable import SerialFraming

/// Silence as a frame's end (gap-delimited layouts) and as the cut of a partial frame, on a
/// test clock's instants.
@Suite struct FramerGapTests {
    /// Modbus RTU's framing: a silence ends the frame, CRC-16/MODBUS over all of it.
    static let rtuLayout = "[framing]\ngap_chars = 3.5\n[framing.checksum]\ntype = \"crc16_modbus\"\nfrom = 0"
    static let gap = Duration.milliseconds(4)
    static let request = Fixture.bytes("01 03 00 00 00 0A C5 CD")
    static let otherRequest = Fixture.bytes("11 03 00 6B 00 03 76 87")

    func at(_ milliseconds: Int) -> OffsetInstant { Fixture.instant(milliseconds: milliseconds) }

    @Test func aSilenceEndsTheFrame() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Self.rtuLayout), gap: Self.gap)
        #expect(framer.silenceDeadline == nil)
        #expect(framer.receive(Self.request[0..<3], at: at(0)).isEmpty)
        #expect(framer.receive(Self.request[3...], at: at(1)).isEmpty)
        #expect(framer.silenceDeadline == at(5))
        #expect(framer.silence(at: at(4)).isEmpty)
        let events = framer.silence(at: at(5))
        #expect(events.frames.map(\.bytes) == [Self.request])
        #expect(events.frames.first?.payload == Self.request[0..<6])
        #expect(framer.silenceDeadline == nil)
    }

    /// The adapter may read the next frame before it calls `silence`: the gap between the two
    /// reads still ends the first frame.
    @Test func theNextReadAfterAGapEndsTheFrame() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Self.rtuLayout), gap: Self.gap)
        #expect(framer.receive(Self.request, at: at(0)).isEmpty)
        #expect(framer.receive(Self.otherRequest, at: at(10)).frames.map(\.bytes) == [Self.request])
        #expect(framer.silence(at: at(14)).frames.map(\.bytes) == [Self.otherRequest])
    }

    /// Bytes that waited in the driver while the reader was busy (its last read filled the
    /// buffer) continue the frame, however late they are read; the same bytes after a real
    /// silence cut it.
    @Test func contiguousBytesReadLateAreNoSilence() throws {
        let layout = "[framing]\nstart = \"AA 55\"\ngap_chars = 3.5\n[framing.length_field]\noffset = 2\nsize = 1\n[framing.checksum]\ntype = \"xor8\""
        let frame = try FrameEncoder(spec: try Fixture.spec(layout)).encode(payload: [1, 2, 3, 4])
        var waited = Framer<OffsetInstant>(spec: try Fixture.spec(layout), gap: Self.gap)
        #expect(waited.receive(frame[0..<4], at: at(0)).isEmpty)
        #expect(waited.receive(frame[4...], at: at(9), contiguous: true).frames.map(\.bytes) == [frame])
        var cut = Framer<OffsetInstant>(spec: try Fixture.spec(layout), gap: Self.gap)
        #expect(cut.receive(frame[0..<4], at: at(0)).isEmpty)
        #expect(cut.receive(frame[4...], at: at(9)).frames.isEmpty)
        #expect(cut.counters.truncated == 1)
    }

    /// Two frames with no silence between are one candidate that fails its check.
    @Test func framesWithoutASilenceBetweenAreRejected() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Self.rtuLayout), gap: Self.gap)
        _ = framer.receive(Self.request + Self.otherRequest, at: at(0))
        let events = framer.silence(at: at(4))
        #expect(events == [.rejected(.checksum), .discarded(bytes: 16)])
        #expect(framer.counters.checksumFailures == 1)
        #expect(framer.counters.discardedBytes == 16)
    }

    /// With start bytes, a gap-delimited frame may follow noise in the same read.
    @Test func startBytesInAGapDelimitedLayout() throws {
        let spec = try Fixture.spec("[framing]\nstart = \"3A\"\ngap_chars = 2\n[framing.checksum]\ntype = \"lrc\"")
        var framer = Framer<OffsetInstant>(spec: spec, gap: Self.gap)
        let frame = try FrameEncoder(spec: spec).encode(payload: [0x01, 0x02])
        _ = framer.receive([0x00, 0x3A, 0xFF] + frame, at: at(0))
        let events = framer.silence(at: at(4))
        #expect(events.frames.map(\.bytes) == [frame])
        // 00 dropped before the first start; 3A FF was a candidate that failed, then dropped.
        #expect(framer.counters.discardedBytes == 3)
        #expect(framer.counters.checksumFailures == 1)
    }

    /// A line that never pauses: one oversized candidate, every byte dropped until a silence,
    /// the buffer bounded all along, and the next frame after the silence is whole.
    @Test func babblingWithoutAPause() throws {
        let spec = try Fixture.spec(Self.rtuLayout.replacingOccurrences(of: "[framing]", with: "[framing]\nmax_frame_bytes = 256"))
        #expect(spec.maxFrameBytes == 256)
        var framer = Framer<OffsetInstant>(spec: spec, gap: Self.gap)
        var random = SplitMix64(seed: 1)
        var events: [FramerEvent] = []
        for step in 0..<100 {
            events += framer.receive(random.bytes(100), at: at(step))
            #expect(framer.bufferedBytes <= 256)
        }
        #expect(events.frames.isEmpty)
        #expect(events.rejections == [.oversized])
        #expect(framer.counters.discardedBytes == 10_000)
        #expect(framer.silenceDeadline == at(103))
        #expect(framer.silence(at: at(103)).isEmpty)
        #expect(framer.silenceDeadline == nil)
        _ = framer.receive(Self.request, at: at(110))
        #expect(framer.silence(at: at(114)).frames.map(\.bytes) == [Self.request])
        #expect(framer.counters.resyncs == 1)
    }

    /// Layouts that find their end otherwise: a silence cuts a partial frame, counted.
    @Test func aSilenceCutsAPartialFrame() throws {
        let spec = try Fixture.spec(Fixture.sensorLayout)
        var framer = Framer<OffsetInstant>(spec: spec, gap: Self.gap)
        let wire = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        #expect(framer.receive(wire.prefix(6), at: at(0)).isEmpty)
        #expect(framer.silenceDeadline == at(4))
        #expect(framer.silence(at: at(4)) == [.rejected(.truncated), .discarded(bytes: 6)])
        #expect(framer.counters.truncated == 1)
        #expect(framer.receive(wire, at: at(20)).frames.map(\.bytes) == [wire])
    }

    /// The rest of a cut frame arrives after the gap: it is noise, not the end of the frame.
    @Test func theRestAfterTheGapIsNotJoined() throws {
        let spec = try Fixture.spec(Fixture.sensorLayout)
        var framer = Framer<OffsetInstant>(spec: spec, gap: Self.gap)
        let wire = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        _ = framer.receive(wire.prefix(6), at: at(0))
        let events = framer.receive(wire.dropFirst(6), at: at(5))
        #expect(events == [.rejected(.truncated), .discarded(bytes: 9)])
    }

    /// Without a gap rule the same pause joins the two parts.
    @Test func noGapRuleNoCut() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: nil)
        let wire = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        _ = framer.receive(wire.prefix(6), at: at(0))
        #expect(framer.silenceDeadline == nil)
        #expect(framer.silence(at: at(1000)).isEmpty)
        #expect(framer.receive(wire.dropFirst(6), at: at(2000)).frames.count == 1)
    }

    /// A start sequence's first byte alone is not a frame: dropped as noise at the silence.
    @Test func aLoneStartPrefixIsNoise() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: Self.gap)
        _ = framer.receive([0xAA], at: at(0))
        #expect(framer.silence(at: at(4)) == [.discarded(bytes: 1)])
        #expect(framer.counters.truncated == 0)
    }

    /// A cut candidate does not hide a whole frame inside it: the search goes on from its next byte.
    @Test func aCutRevealsAFrameInsideTheCandidate() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: Self.gap)
        let wire = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        // A forged header declaring 0x30 payload bytes swallows the real frame until the cut.
        _ = framer.receive(Fixture.bytes("AA 55 01 30") + wire, at: at(0))
        let events = framer.silence(at: at(4))
        #expect(events == [.rejected(.truncated), .discarded(bytes: 4), .frame(ReceivedFrame(bytes: wire, payloadRange: 4..<7, address: 7))])
    }

    /// The daemon's instants and raw read buffers work the same as the test clock's.
    @Test func continuousClockAndRawReads() throws {
        var framer = Framer<ContinuousClock.Instant>(spec: try Fixture.spec(Self.rtuLayout), gap: Self.gap)
        let read = ContinuousClock.now
        let none = Self.request.withUnsafeBytes { framer.receive($0, at: read) }
        #expect(none.isEmpty)
        #expect(framer.silenceDeadline == read.advanced(by: Self.gap))
        #expect(framer.silence(at: read.advanced(by: Self.gap)).frames.map(\.bytes) == [Self.request])
    }

    @Test func resetDropsAPartialFrame() throws {
        var framer = Framer<OffsetInstant>(spec: try Fixture.spec(Fixture.sensorLayout), gap: Self.gap)
        #expect(framer.reset().isEmpty)
        _ = framer.receive(Fixture.bytes("AA 55 07 03 01"), at: at(0))
        #expect(framer.reset() == [.rejected(.truncated), .discarded(bytes: 5)])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.silenceDeadline == nil)
        #expect(framer.counters.truncated == 1)
    }
}
