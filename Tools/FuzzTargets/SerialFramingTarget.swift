import Config
import GatewayCore
import SerialFraming

/// `serial-framing`: bytes from a serial line through the resynchronising `Framer` of one of
/// several layouts (the sample sensor's, HDLC, SLIP, fixed length, end bytes, a silence gap, a
/// little-endian length field that counts the frame, a header byte no field names), read in
/// chunks with silences between some of them.
///
/// Input: a byte choosing the layout (past the last one: a layout of the input's own, the text
/// of a `[framing]` table up to a 00 byte), then chunks: a control byte (low 6 bits + 1: the
/// chunk's length; bit 6: a silence of the layout's gap before it; bit 7: `silence` called after
/// it), then the chunk's bytes.
///
/// Properties: every frame passes the checks its layout declares (start and end bytes, length,
/// length field, address, checksum), checked here apart from the framer; the buffer stays
/// within `max_frame_bytes` plus one read; events and counters agree; without byte stuffing,
/// every byte read is in a frame or discarded once; and a frame re-encoded from its payload and
/// address (`FrameEncoder`) is the frame byte for byte, or, with byte stuffing, frames to it
/// again, when the layout's header bytes no field names are zero.
enum SerialFramingTarget {
    static let target = FuzzTarget(
        name: "serial-framing", maxInputBytes: 8192,
        summary: "Framer (8 layouts, chunked reads, silences) and FrameEncoder; frames pass their checks and re-encode to themselves",
        run: run)

    struct Layout: Sendable {
        var name: String
        var spec: FramingSpec
    }

    static let line = LineSettings(baud: 9600)!

    static let layouts: [Layout] = {
        let sample = "devices/tank-level.toml"
        let diagnostics = ConfigDiagnostics()
        let root = SampleFiles.reader(sample, diagnostics: diagnostics)
        guard let sensor = root.table("framing", required: true).flatMap({ FramingSpec.parse($0) }) else {
            SampleFiles.requireClean(diagnostics, sample)
            FuzzCheck.fail("\(sample) has no [framing]")
        }
        return [Layout(name: "sample sensor (\(sample))", spec: sensor)] + texts.map { Layout(name: $0.0, spec: spec($0.1, name: $0.0)) }
    }()

    static let texts: [(String, String)] = [
        ("HDLC: 7E flags, 7D escape XOR 20, CRC-32", """
            start = "7E"
            end = "7E"
            escape = "7D"
            escape_xor = 0x20
            [framing.checksum]
            type = "crc32"
            """),
        ("SLIP: C0 flags, DB escape map, CRC-16/X-25, address", """
            start = "C0"
            end = "C0"
            escape = "DB"
            escape_map = { "C0" = "DC", "DB" = "DD" }
            address_offset = 1
            max_frame_bytes = 300
            [framing.checksum]
            type = "crc16_x25"
            """),
        ("fixed: 5A A5, 12 bytes, CRC-16/CCITT-FALSE", """
            start = "5A A5"
            length = 12
            [framing.checksum]
            type = "crc16_ccitt_false"
            """),
        ("ASCII-like: 3A, end 0D 0A, LRC", """
            start = "3A"
            end = "0D 0A"
            max_frame_bytes = 128
            [framing.checksum]
            type = "lrc"
            """),
        ("gap: RTU-like, address first, CRC-16/MODBUS", """
            gap_chars = 3.5
            address_offset = 0
            max_frame_bytes = 256
            [framing.checksum]
            type = "crc16_modbus"
            from = 0
            """),
        ("length field: 68, 2 bytes little-endian counting the frame, end 16, sum8", """
            start = "68"
            end = "16"
            address_offset = 3
            [framing.length_field]
            offset = 1
            size = 2
            order = "little"
            counts = "frame"
            [framing.checksum]
            type = "sum8"
            """),
        ("free header byte: FE, 1-byte length after the field with adjust, a control byte, CRC-16/KERMIT", """
            start = "FE"
            payload_offset = 3
            max_frame_bytes = 200
            [framing.length_field]
            offset = 1
            size = 1
            counts = "after_field"
            adjust = -2
            [framing.checksum]
            type = "crc16_kermit"
            """),
        ("4-byte length field: AB CD, end EF, CRC-16/XMODEM", """
            start = "AB CD"
            end = "EF"
            [framing.length_field]
            offset = 2
            size = 4
            [framing.checksum]
            type = "crc16_xmodem"
            """),
    ]

    static func spec(_ body: String, name: String) -> FramingSpec {
        let text = "[framing]\n" + body
        let diagnostics = ConfigDiagnostics()
        switch TOMLDocumentParser.parse(text: text, file: name) {
        case .failure(let diagnostic):
            FuzzCheck.fail("layout \(name): \(diagnostic)")
        case .success(let document):
            let root = ConfigReader(document: document, diagnostics: diagnostics)
            let spec = root.table("framing", required: true).flatMap { FramingSpec.parse($0) }
            SampleFiles.requireClean(diagnostics, "layout \(name)")
            guard let spec else { FuzzCheck.fail("layout \(name) does not parse") }
            return spec
        }
    }

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let choice = Int(input.byte()) % (layouts.count + 1)
        let layout: Layout
        if choice < layouts.count {
            layout = layouts[choice]
        } else {
            // A layout of the input's own: the `[framing]` table's text up to a 00 byte.
            let text = "[framing]\n" + String(decoding: input.field(until: 0), as: UTF8.self)
            guard case .success(let document) = TOMLDocumentParser.parse(text: text, file: "framing.toml"),
                  let spec = ConfigReader(document: document, diagnostics: ConfigDiagnostics()).table("framing").flatMap({ FramingSpec.parse($0) })
            else { return }
            layout = Layout(name: "the input's layout \(text.debugDescription)", spec: spec)
        }
        let spec = layout.spec
        let gap = spec.gap(on: line) ?? .milliseconds(5)
        var framer = Framer<OffsetInstant>(spec: spec, gap: spec.gap(on: line))
        var now = OffsetInstant(offset: .zero)
        var events: [FramerEvent] = []
        var read = 0
        while !input.isEmpty {
            let control = input.byte()
            if control & 0x40 != 0 { now = now.advanced(by: gap) }
            let chunk = input.take(Int(control & 0x3F) + 1)
            now = now.advanced(by: line.characterTime * chunk.count)
            read += chunk.count
            events += framer.receive(chunk, at: now)
            FuzzCheck.require(framer.bufferedBytes <= spec.maxFrameBytes + chunk.count,
                              "\(layout.name): \(framer.bufferedBytes) bytes buffered after a read of \(chunk.count)")
            if control & 0x80 != 0 {
                now = now.advanced(by: gap)
                events += framer.silence(at: now)
            }
            if let deadline = framer.silenceDeadline {
                FuzzCheck.require(framer.bufferedBytes > 0 || deadline > now, "\(layout.name): a silence deadline with nothing buffered")
            }
        }
        events += framer.reset()
        FuzzCheck.require(framer.bufferedBytes == 0, "\(layout.name): \(framer.bufferedBytes) bytes left after reset")
        check(events, framer: framer, layout: layout, read: read)
    }

    static func check(_ events: [FramerEvent], framer: Framer<OffsetInstant>, layout: Layout, read: Int) {
        let spec = layout.spec
        var frames = 0, rejected = 0, discarded = 0, framedBytes = 0
        for event in events {
            switch event {
            case .frame(let frame):
                frames += 1
                framedBytes += frame.bytes.count
                if let problem = violation(frame, spec) { FuzzCheck.fail("\(layout.name): frame \(hexText(frame.bytes)): \(problem)") }
                reencode(frame, layout: layout)
            case .rejected:
                rejected += 1
            case .discarded(let count):
                FuzzCheck.require(count > 0, "\(layout.name): a discard of \(count) bytes")
                discarded += count
            }
        }
        let counters = framer.counters
        FuzzCheck.require(counters.frames == frames && counters.rejected == rejected && counters.discardedBytes == discarded,
                          "\(layout.name): \(frames) frames, \(rejected) rejections, \(discarded) bytes discarded, counters \(counters)")
        if spec.stuffing == nil {
            FuzzCheck.require(framedBytes + discarded == read,
                              "\(layout.name): \(read) bytes read, \(framedBytes) in frames, \(discarded) discarded")
        }
    }

    /// What is wrong with a frame the framer handed out, checked from the layout's declaration.
    static func violation(_ frame: ReceivedFrame, _ spec: FramingSpec) -> String? {
        let bytes = frame.bytes
        let checksumSize = spec.checksum?.type.size ?? 0
        let trailer = bytes.count - checksumSize - spec.end.count
        guard bytes.count <= spec.maxFrameBytes else { return "longer than max_frame_bytes" }
        guard bytes.starts(with: spec.start) else { return "no start bytes" }
        guard bytes.count >= spec.payloadOffset + checksumSize + spec.end.count else { return "shorter than the fixed parts" }
        guard Array(bytes.suffix(spec.end.count)) == spec.end else { return "no end bytes" }
        if let fixed = spec.fixedLength, bytes.count != fixed { return "not \(fixed) bytes long" }
        guard frame.payloadRange == spec.payloadOffset..<trailer else { return "payload at \(frame.payloadRange)" }
        guard frame.address == spec.addressOffset.map({ bytes[$0] }) else { return "address \(String(describing: frame.address))" }
        if let field = spec.lengthField {
            var value = 0
            for index in 0..<field.size {
                let byte = Int(bytes[field.order == .big ? field.offset + index : field.offset + field.size - 1 - index])
                value = value << 8 | byte
            }
            let counted: Int
            switch field.counts {
            case .payload: counted = trailer - spec.payloadOffset
            case .afterField: counted = bytes.count - field.end
            case .frame: counted = bytes.count
            }
            if value + field.adjust != counted { return "length field \(value) (adjust \(field.adjust)) for \(counted) bytes" }
        }
        if let checksum = spec.checksum {
            let from = checksum.from ?? spec.start.count
            guard from <= trailer else { return "checksum covers nothing" }
            let expected = checksum.type.compute(bytes[from..<trailer])
            var stored: UInt32 = 0
            for index in 0..<checksumSize {
                let byte = UInt32(bytes[checksum.order == .big ? trailer + index : trailer + checksumSize - 1 - index])
                stored = stored << 8 | byte
            }
            if stored != expected { return "checksum \(String(stored, radix: 16)), computed \(String(expected, radix: 16))" }
        }
        return nil
    }

    /// The header bytes no field names: after the start bytes, before the payload, neither the
    /// address nor the length field.
    static func freeHeaderBytes(_ spec: FramingSpec) -> [Int] {
        (spec.start.count..<spec.payloadOffset).filter { index in
            index != spec.addressOffset && !(spec.lengthField.map { ($0.offset..<$0.end).contains(index) } ?? false)
        }
    }

    static func reencode(_ frame: ReceivedFrame, layout: Layout) {
        let spec = layout.spec
        guard freeHeaderBytes(spec).allSatisfy({ frame.bytes[$0] == 0 }) else { return }
        let wire: [UInt8]
        do {
            wire = try FrameEncoder(spec: spec).encode(payload: Array(frame.payload), address: frame.address)
        } catch {
            FuzzCheck.fail("\(layout.name): frame \(hexText(frame.bytes)) does not re-encode: \(error)")
        }
        if spec.stuffing == nil {
            FuzzCheck.require(wire == frame.bytes, "\(layout.name): frame \(hexText(frame.bytes)) re-encodes as \(hexText(wire))")
        } else {
            var again = Framer<OffsetInstant>(spec: spec, gap: nil)
            let events = again.receive(wire, at: OffsetInstant(offset: .zero)) + again.reset()
            FuzzCheck.require(events == [.frame(frame)], "\(layout.name): frame \(hexText(frame.bytes)) re-encodes as \(hexText(wire)), framed as \(events)")
        }
    }
}
