import GatewayCore
import Testing
@testable import SerialFraming

/// Each way of finding a frame, each header field, on frames built by hand (not by the
/// encoder, so the two cannot share a misreading of the layout).
@Suite struct FramerLayoutTests {
    func framer(_ spec: FramingSpec, gap: Duration? = nil) -> Framer<OffsetInstant> { Framer(spec: spec, gap: gap) }

    @Test func sensorFrameWithAddress() throws {
        var framer = framer(try Fixture.spec(Fixture.sensorLayout))
        // AA 55 | address 07 | length 03 | 01 02 03 | CRC-16/MODBUS over 07…03, low byte first.
        let events = framer.feed(Fixture.bytes("AA 55 07 03 01 02 03 81 25"))
        #expect(events.count == 1)
        let frame = try #require(events.frames.first)
        #expect(frame.address == 0x07)
        #expect(frame.payload == [1, 2, 3])
        #expect(frame.payloadRange == 4..<7)
        #expect(frame.bytes.count == 9)
        #expect(framer.counters == { var c = FramerCounters(); c.frames = 1; return c }())
    }

    @Test func bytesBeforeTheStartAreDiscarded() throws {
        var framer = framer(try Fixture.spec(Fixture.sensorLayout))
        let events = framer.feed(Fixture.bytes("00 AA 13 AA AA 55 07 03 01 02 03 81 25 55"))
        #expect(events == [.discarded(bytes: 4), events[1], .discarded(bytes: 1)])
        #expect(events.frames.count == 1)
        #expect(framer.counters.resyncs == 2)
        #expect(framer.counters.discardedBytes == 5)
    }

    /// A start sequence split across reads: its first byte is kept until the next read.
    @Test func startSplitAcrossReads() throws {
        var framer = framer(try Fixture.spec(Fixture.sensorLayout))
        let wire = Fixture.bytes("AA 55 07 03 01 02 03 81 25")
        #expect(framer.feed([0x10, 0xAA]) == [.discarded(bytes: 1)])
        #expect(framer.bufferedBytes == 1)
        #expect(framer.feed(Array(wire.dropFirst())).frames.map(\.bytes) == [wire])
    }

    @Test func byteByByte() throws {
        var framer = framer(try Fixture.spec(Fixture.sensorLayout))
        var events: [FramerEvent] = []
        for byte in Fixture.bytes("AA 55 07 03 01 02 03 81 25") { events += framer.feed([byte]) }
        #expect(events.frames.map(\.payload) == [[1, 2, 3]])
    }

    // MARK: - End bytes

    /// STX … ETX with an XOR check: an ETX inside the payload first closes a candidate that
    /// fails its check, so the candidate is extended to the next ETX.
    @Test func endBytesInsideThePayload() throws {
        let spec = try Fixture.spec("[framing]\nstart = \"02\"\nend = \"03\"\n[framing.checksum]\ntype = \"xor8\"")
        var framer = framer(spec)
        let payload: [UInt8] = [0x41, 0x03, 0x42]
        let wire = [0x02] + payload + [0x41 ^ 0x03 ^ 0x42, 0x03]
        let events = framer.feed(wire + wire)
        #expect(events.frames.map(\.bytes) == [wire, wire])
        #expect(framer.counters.checksumFailures == 0)
        #expect(framer.counters.discardedBytes == 0)
    }

    /// Lines: no start, no check, CR LF at the end.
    @Test func endBytesOnly() throws {
        var framer = framer(try Fixture.spec("[framing]\nend = \"0D 0A\""))
        let events = framer.feed(Array("T=21.5\r\n\r\nH=40".utf8))
        #expect(events.frames.map { Array($0.payload) } == [Array("T=21.5".utf8), []])
        #expect(framer.bufferedBytes == 4)
        #expect(framer.feed(Array("\r\n".utf8)).frames.map { Array($0.payload) } == [Array("H=40".utf8)])
    }

    @Test func multiByteEndSplitAcrossReads() throws {
        var framer = framer(try Fixture.spec("[framing]\nstart = \"68\"\nend = \"16 16\"\n[framing.checksum]\ntype = \"sum8\""))
        let wire = Fixture.bytes("68 01 02 03 16 16")
        #expect(framer.feed(Array(wire.prefix(5))).isEmpty)
        #expect(framer.feed(Array(wire.suffix(1))).frames.map(\.bytes) == [wire])
    }

    // MARK: - Fixed length

    @Test func fixedLengthWithStart() throws {
        var framer = framer(try Fixture.spec(Fixture.fixedLayout))
        let wire = try FrameEncoder(spec: framer.spec).encode(payload: Array(1...8))
        #expect(wire.count == 12)
        #expect(Array(wire.prefix(2)) == [0x5A, 0xA5])
        #expect(framer.feed(wire + wire).frames.map(\.payload) == [Array(1...8)[...], Array(1...8)[...]])
    }

    /// Without a start sequence every byte may begin a frame: a stray byte costs one failed
    /// candidate, then the window slides onto the frame.
    @Test func fixedLengthHuntsByteByByte() throws {
        let spec = try FramingSpec(fixedLength: 8, checksum: .init(type: .crc16Modbus))
        var framer = framer(spec)
        let wire = Fixture.bytes("01 03 00 00 00 0A C5 CD")
        let events = framer.feed([0x01] + wire)
        #expect(events == [.rejected(.checksum), .discarded(bytes: 1), .frame(ReceivedFrame(bytes: wire, payloadRange: 0..<6, address: nil))])
    }

    /// A fixed length and a length field: the field is checked against the length.
    @Test func fixedLengthChecksTheLengthField() throws {
        let spec = try FramingSpec(start: [0xAA], fixedLength: 6, lengthField: .init(offset: 1, size: 1), checksum: .init(type: .sum8))
        var framer = framer(spec)
        #expect(framer.feed(Fixture.bytes("AA 03 01 02 03 09")).frames.count == 1)
        // The check passes; the field says 2 where the frame carries 3.
        #expect(framer.feed(Fixture.bytes("AA 02 01 02 03 08")).rejections == [.badLength])
    }

    // MARK: - Length fields

    struct LengthCase: Sendable, CustomStringConvertible {
        var size: Int
        var order: ByteOrder
        var counts: FramingSpec.LengthField.Counts
        var adjust: Int
        var description: String { "\(size) bytes \(order) counting \(counts.rawValue), adjust \(adjust)" }
    }

    static let lengthCases: [LengthCase] = [1, 2, 4].flatMap { size in
        ByteOrder.allCases.flatMap { order in
            FramingSpec.LengthField.Counts.allCases.flatMap { counts in
                [0, -2, 3].map { LengthCase(size: size, order: order, counts: counts, adjust: $0) }
            }
        }
    }

    /// AA 55 | length | payload | CRC-16/MODBUS, the value written as a device would.
    @Test(arguments: lengthCases)
    func lengthField(_ c: LengthCase) throws {
        let field = FramingSpec.LengthField(offset: 2, size: c.size, order: c.order, counts: c.counts, adjust: c.adjust)
        let spec = try FramingSpec(start: [0xAA, 0x55], lengthField: field, checksum: .init(type: .crc16Modbus))
        let payload: [UInt8] = [0x10, 0x20, 0x30, 0x40, 0x50]
        let frameLength = 2 + c.size + payload.count + 2
        let measured = switch c.counts {
        case .payload: payload.count
        case .afterField: payload.count + 2
        case .frame: frameLength
        }
        let value = UInt32(measured - c.adjust)
        var lengthBytes = (0..<c.size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
        if c.order == .big { lengthBytes.reverse() }
        var wire = [0xAA, 0x55] + lengthBytes + payload
        let crc = ChecksumType.crc16Modbus.compute(wire[2...])
        wire += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]

        var framer = framer(spec)
        let events = framer.feed([0x00] + wire + [0xAA])
        #expect(events.frames.map(\.payload) == [payload[...]])
        #expect(framer.counters.frames == 1 && framer.counters.rejected == 0)
        #expect(try FrameEncoder(spec: spec).encode(payload: payload) == wire)
    }

    /// Offsets count from the frame's first byte: a header with a byte the layout does not name
    /// (a command code, say) and the payload after it.
    @Test func payloadAfterUnnamedHeaderBytes() throws {
        let spec = try Fixture.spec("""
            [framing]
            start = "68"
            address_offset = 1
            payload_offset = 4
            end = "16"
            [framing.length_field]
            offset = 2
            size = 1
            [framing.checksum]
            type = "sum8"
            from = 0
            """)
        // 68 | address 05 | length 02 | (command 81) | payload 0A 0B | sum | 16
        let covered = Fixture.bytes("68 05 02 81 0A 0B")
        let wire = covered + [covered.reduce(0, &+), 0x16]
        var framer = framer(spec)
        let frame = try #require(framer.feed(wire).frames.first)
        #expect(frame.payload == [0x0A, 0x0B])
        #expect(frame.address == 5)
        #expect(frame.bytes[3] == 0x81)
        // Sent, the unnamed byte is zero.
        #expect(try FrameEncoder(spec: spec).encode(payload: [0x0A, 0x0B], address: 5)[3] == 0)
    }

    @Test func endBytesAfterALengthFieldAreChecked() throws {
        let spec = try FramingSpec(start: [0x68], end: [0x16], lengthField: .init(offset: 1, size: 1), checksum: .init(type: .sum8))
        var framer = framer(spec)
        let good = Fixture.bytes("68 02 0A 0B 17 16")
        #expect(framer.feed(good).frames.map(\.bytes) == [good])
        let badEnd = Fixture.bytes("68 02 0A 0B 17 17")
        #expect(framer.feed(badEnd).rejections == [.badEnd])
        #expect(framer.counters.badEnd == 1)
    }
}
