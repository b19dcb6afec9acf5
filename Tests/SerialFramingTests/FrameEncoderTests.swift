import GatewayCore
import Testing
import TestSupport
@testable import SerialFraming

@Suite struct FrameEncoderTests {
    @Test func addressIsWrittenAndRequired() throws {
        let encoder = FrameEncoder(spec: try Fixture.spec(Fixture.sensorLayout))
        #expect(try encoder.encode(payload: [1, 2, 3], address: 7) == Fixture.bytes("AA 55 07 03 01 02 03 81 25"))
        #expect(throws: FrameEncodingError.missingAddress) { try encoder.encode(payload: [1]) }
        let unaddressed = FrameEncoder(spec: try Fixture.spec(Fixture.fixedLayout))
        #expect(throws: FrameEncodingError.unexpectedAddress) { try unaddressed.encode(payload: [1], address: 7) }
    }

    /// A fixed length pads a short payload with zeros and refuses a long one.
    @Test func fixedLengthPadsAndRefuses() throws {
        let encoder = FrameEncoder(spec: try Fixture.spec(Fixture.fixedLayout))
        #expect(encoder.payloadCapacity == 8)
        let wire = try encoder.encode(payload: [9])
        #expect(Array(wire[2..<10]) == [9, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: FrameEncodingError.payloadTooLarge(size: 9, limit: 8)) { try encoder.encode(payload: Array(repeating: 1, count: 9)) }
    }

    @Test func boundsOfALengthField() throws {
        // One length byte counts at most 255 payload bytes, even under a larger bound.
        let sensor = FrameEncoder(spec: try Fixture.spec(Fixture.sensorLayout))
        #expect(sensor.payloadCapacity == 255)
        #expect(try sensor.encode(payload: Array(repeating: 0, count: 255), address: 1).count == 261)
        #expect(throws: FrameEncodingError.payloadTooLarge(size: 256, limit: 255)) {
            try sensor.encode(payload: Array(repeating: 0, count: 256), address: 1)
        }
        // max_frame_bytes bounds a frame whatever the field could count.
        let small = FrameEncoder(spec: try FramingSpec(start: [0xAA], lengthField: .init(offset: 1, size: 2), maxFrameBytes: 64))
        #expect(small.payloadCapacity == 61)
        // A positive adjust: the field cannot say "fewer than adjust bytes".
        let adjusted = FrameEncoder(spec: try FramingSpec(start: [0xAA], lengthField: .init(offset: 1, size: 1, adjust: 2)))
        #expect(throws: FrameEncodingError.lengthOutOfField(value: -1, size: 1)) { try adjusted.encode(payload: [1]) }
        #expect(try adjusted.encode(payload: [1, 2]) == [0xAA, 0x00, 1, 2])
    }

    /// The bound holds on the wire: stuffing every byte doubles a frame.
    @Test func stuffedFrameBeyondTheBound() throws {
        let spec = try Fixture.spec(Fixture.hdlcLayout.replacingOccurrences(of: "[framing]", with: "[framing]\nmax_frame_bytes = 32"))
        let encoder = FrameEncoder(spec: spec)
        #expect(try encoder.encode(payload: Array(repeating: 0x41, count: 26)).count == 32)
        #expect(throws: FrameEncodingError.stuffedTooLarge(size: 46, limit: 32)) { try encoder.encode(payload: Array(repeating: 0x7E, count: 20)) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(FrameEncodingError.payloadTooLarge(size: 9, limit: 8).description == "a payload of 9 bytes does not fit the frame (at most 8)")
        #expect(FrameEncodingError.missingAddress.description.contains("address_offset"))
    }

    /// Every layout the framer knows, each checksum and length-field form: what the encoder
    /// builds, the framer takes back whole, at any read size.
    static let layouts: [String] = [
        Fixture.sensorLayout, Fixture.hdlcLayout, Fixture.fixedLayout, ByteStuffingTests.slipLayout,
        "[framing]\nstart = \"02\"\nend = \"03\"\n[framing.checksum]\ntype = \"xor8\"",
        "[framing]\nstart = \"3A\"\nend = \"0D 0A\"\n[framing.checksum]\ntype = \"lrc\"",
        "[framing]\nstart = \"68\"\nend = \"16\"\naddress_offset = 1\n[framing.length_field]\noffset = 2\nsize = 1\n[framing.checksum]\ntype = \"sum8\"\nfrom = 0",
        "[framing]\nstart = \"A5 5A\"\naddress_offset = 4\n[framing.length_field]\noffset = 2\nsize = 2\norder = \"little\"\ncounts = \"frame\"\n[framing.checksum]\ntype = \"crc16_ccitt_false\"",
        "[framing]\nstart = \"FE FE FE\"\n[framing.length_field]\noffset = 3\nsize = 4\ncounts = \"after_field\"\nadjust = -4\n[framing.checksum]\ntype = \"crc32\"\norder = \"little\"",
        "[framing]\n[framing.length_field]\noffset = 0\nsize = 1\n[framing.checksum]\ntype = \"crc16_xmodem\"\nfrom = 0",
        "[framing]\nstart = \"7E\"\nend = \"7E\"\nescape = \"7D\"\nescape_xor = 0x20\naddress_offset = 1\n[framing.checksum]\ntype = \"crc16_ccitt_false\"\norder = \"little\"",
    ]

    @Test(arguments: layouts)
    func roundTrip(toml: String) throws {
        let spec = try Fixture.spec(toml)
        let encoder = FrameEncoder(spec: spec)
        var random = SplitMix64(seed: UInt64(toml.utf8.count))
        var sent: [(payload: [UInt8], address: UInt8?)] = []
        var stream: [UInt8] = []
        for index in 0..<200 {
            let size = spec.fixedLength == nil ? index % min(40, encoder.payloadCapacity + 1) : encoder.payloadCapacity
            let payload = random.bytes(size)
            let address: UInt8? = spec.addressOffset == nil ? nil : UInt8(truncatingIfNeeded: index)
            stream += try encoder.encode(payload: payload, address: address)
            sent.append((payload, address))
        }
        for readSize in [1, 2, 7, 64, stream.count] {
            var framer = Framer<OffsetInstant>(spec: spec, gap: nil)
            var frames: [ReceivedFrame] = []
            for start in stride(from: 0, to: stream.count, by: readSize) {
                frames += framer.feed(Array(stream[start..<min(start + readSize, stream.count)])).frames
            }
            frames += framer.reset().frames
            #expect(frames.map { Array($0.payload) } == sent.map(\.payload), "read size \(readSize)")
            #expect(frames.map(\.address) == sent.map(\.address))
            #expect(framer.counters.rejected == 0 && framer.counters.discardedBytes == 0, "\(framer.counters)")
        }
    }
}
