import GatewayCore
import Testing
@testable import SerialFraming

@Suite struct ByteStuffingTests {
    static let slipLayout = """
        [framing]
        start = "C0"
        end = "C0"
        escape = "DB"
        escape_map = { "C0" = "DC", "DB" = "DD" }
        [framing.checksum]
        type = "crc16_xmodem"
        """

    func framer(_ toml: String) throws -> Framer<OffsetInstant> { Framer(spec: try Fixture.spec(toml), gap: nil) }

    /// HDLC: 7E → 7D 5E, 7D → 7D 5D, the check computed over the unstuffed bytes.
    @Test func hdlcEscapesFlagAndEscape() throws {
        let spec = try Fixture.spec(Fixture.hdlcLayout)
        let payload: [UInt8] = [0x01, 0x7E, 0x02, 0x7D, 0x03]
        let wire = try FrameEncoder(spec: spec).encode(payload: payload)
        #expect(Array(wire.prefix(8)) == Fixture.bytes("7E 01 7D 5E 02 7D 5D 03"))
        #expect(wire.last == 0x7E)
        #expect(!wire.dropFirst().dropLast().contains(0x7E))
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        let frame = try #require(framer.feed(wire).frames.first)
        #expect(frame.payload == payload[...])
        let crc = ChecksumType.crc32.compute(([0x7E] + payload)[1...])
        #expect(Array(frame.bytes.suffix(5).prefix(4)) == (0..<4).reversed().map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) })
    }

    /// Back to back, two frames share one flag; idle flags between frames are fill, not noise.
    @Test func sharedAndIdleFlags() throws {
        let spec = try Fixture.spec(Fixture.hdlcLayout)
        let encoder = FrameEncoder(spec: spec)
        let first = try encoder.encode(payload: [0x11])
        let second = try encoder.encode(payload: [0x22, 0x7E])
        let third = try encoder.encode(payload: [])
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        let events = framer.feed(first + second.dropFirst() + [0x7E, 0x7E] + third)
        #expect(events.frames.map { Array($0.payload) } == [[0x11], [0x22, 0x7E], []])
        #expect(events.count == 3)
        #expect(framer.counters.discardedBytes == 0)
        // The last flag may open the next frame; it is not a partial frame.
        #expect(framer.bufferedBytes == 1)
        #expect(framer.reset().isEmpty)
        #expect(framer.counters.truncated == 0)
    }

    @Test func sharedFlagWaitsForAGap() throws {
        let spec = try Fixture.spec(Fixture.hdlcLayout)
        var framer = Framer<OffsetInstant>(spec: spec, gap: .milliseconds(2))
        _ = framer.feed(try FrameEncoder(spec: spec).encode(payload: [1]))
        #expect(framer.silenceDeadline == nil)
    }

    /// SLIP: C0 → DB DC, DB → DB DD.
    @Test func slipMap() throws {
        let spec = try Fixture.spec(Self.slipLayout)
        let payload: [UInt8] = [0xC0, 0xDB, 0xDC, 0xDD]
        let wire = try FrameEncoder(spec: spec).encode(payload: payload)
        #expect(Array(wire.prefix(7)) == Fixture.bytes("C0 DB DC DB DD DC DD"))
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect(framer.feed(wire).frames.map(\.payload) == [payload[...]])
    }

    /// Keys beyond the flags and the escape byte are escaped too (XON/XOFF here).
    @Test func mapEscapesExtraBytes() throws {
        let spec = try Fixture.spec(Self.slipLayout.replacingOccurrences(of: "\"DB\" = \"DD\"", with: "\"DB\" = \"DD\", \"11\" = \"E1\", \"13\" = \"E3\""))
        let wire = try FrameEncoder(spec: spec).encode(payload: [0x11, 0x13])
        #expect(Array(wire.prefix(5)) == Fixture.bytes("C0 DB E1 DB E3"))
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect(framer.feed(wire).frames.map(\.payload) == [[0x11, 0x13]])
    }

    @Test func badEscapes() throws {
        var hdlc = try framer(Fixture.hdlcLayout)
        // An escape right before the closing flag (HDLC's abort sequence).
        #expect(hdlc.feed(Fixture.bytes("7E 01 02 03 04 05 7D 7E")).rejections == [.badEscape])
        var slip = try framer(Self.slipLayout)
        // DB followed by a byte the map does not send.
        #expect(slip.feed(Fixture.bytes("C0 01 DB 00 02 03 C0")).rejections == [.badEscape])
        #expect(slip.counters.badEscape == 1)
    }

    /// With distinct start and end bytes, an unescaped start inside a frame means the frame
    /// before it was cut: the search resumes at that start.
    @Test func aStartInsideCutsTheFrame() throws {
        let toml = "[framing]\nstart = \"02\"\nend = \"03\"\nescape = \"10\"\nescape_xor = 0x80\n[framing.checksum]\ntype = \"sum8\""
        let spec = try Fixture.spec(toml)
        let wire = try FrameEncoder(spec: spec).encode(payload: [0x02, 0x03, 0x10, 0x04])
        #expect(wire == Fixture.bytes("02 10 82 10 83 10 90 04 19 03"))
        var framer = try framer(toml)
        let events = framer.feed(Fixture.bytes("02 55 66") + wire)
        #expect(events == [.rejected(.truncated), .discarded(bytes: 3), .frame(ReceivedFrame(bytes: Fixture.bytes("02 02 03 10 04 19 03"), payloadRange: 1..<5, address: nil))])
    }

    /// A length field under stuffing counts unstuffed bytes and is checked against them.
    @Test func lengthFieldUnderStuffing() throws {
        let toml = Fixture.hdlcLayout.replacingOccurrences(of: "[framing.checksum]", with: "[framing.length_field]\noffset = 1\nsize = 1\n[framing.checksum]")
        let spec = try Fixture.spec(toml)
        #expect(spec.delimiting == .stuffing)
        let wire = try FrameEncoder(spec: spec).encode(payload: [0x7E, 0x7E, 0x7E])
        #expect(Array(wire.prefix(2)) == [0x7E, 0x03])
        var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
        #expect(framer.feed(wire).frames.map(\.payload) == [[0x7E, 0x7E, 0x7E]])
        var forged = wire
        forged[1] = 0x04
        #expect(framer.feed(forged).rejections == [.badLength])
    }

    /// No flag within max_frame_bytes: rejected without waiting further.
    @Test func noEndWithinTheBound() throws {
        var framer = try framer(Fixture.hdlcLayout.replacingOccurrences(of: "[framing]", with: "[framing]\nmax_frame_bytes = 16"))
        let events = framer.feed([0x7E] + [UInt8](repeating: 0x41, count: 20))
        #expect(events.rejections == [.oversized])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.counters.discardedBytes == 21)
    }
}
