import GatewayCore
import Testing
@testable import SerialFraming

@Suite struct FramingSpecParserTests {
    @Test func everyKeyIsRead() throws {
        let spec = try Fixture.spec("""
            [framing]
            start = "aa 55"
            end = "0x0D 0x0A"
            gap_chars = 3.5
            max_frame_bytes = 300
            payload_offset = 6
            address_offset = 2
            [framing.length_field]
            offset = 3
            size = 2
            order = "little"
            counts = "after_field"
            adjust = -1
            [framing.checksum]
            type = "crc16_xmodem"
            from = 0
            order = "little"
            """)
        #expect(spec.start == [0xAA, 0x55])
        #expect(spec.end == [0x0D, 0x0A])
        #expect(spec.gapChars == 3.5)
        #expect(spec.maxFrameBytes == 300)
        #expect(spec.payloadOffset == 6)
        #expect(spec.addressOffset == 2)
        #expect(spec.lengthField == .init(offset: 3, size: 2, order: .little, counts: .afterField, adjust: -1))
        #expect(spec.checksum == .init(type: .crc16XModem, from: 0, order: .little))
        #expect(spec.delimiting == .lengthField)
        #expect(spec.fixedLength == nil)
        #expect(spec.stuffing == nil)
    }

    @Test func defaults() throws {
        let spec = try Fixture.spec(Fixture.sensorLayout.replacingOccurrences(of: "payload_offset = 4\n", with: ""))
        #expect(spec.maxFrameBytes == FramingLimits.defaultMaxFrameBytes)
        // After the start bytes, the address and the length field, whichever ends last.
        #expect(spec.payloadOffset == 4)
        let bare = try Fixture.spec("""
            [framing]
            start = "68"
            [framing.length_field]
            offset = 1
            size = 1
            [framing.checksum]
            type = "crc16_ccitt_false"
            """)
        #expect(bare.lengthField == .init(offset: 1, size: 1, order: .big, counts: .payload, adjust: 0))
        #expect(bare.checksum?.order == .big)
        #expect(bare.checksum?.from == nil)
        #expect(bare.checksumFrom == 1)
        #expect(bare.payloadOffset == 2)
        #expect(try Fixture.spec("[framing]\nstart = \"02\"\naddress_offset = 1\nend = \"03\"").payloadOffset == 2)
        #expect(try Fixture.spec("[framing]\ngap_chars = 3.5").payloadOffset == 0)
    }

    @Test func howTheEndIsFound() throws {
        #expect(try Fixture.spec("[framing]\nlength = 8\nend = \"16\"").delimiting == .fixedLength)
        #expect(try Fixture.spec("[framing]\nend = \"16\"\ngap_chars = 2").delimiting == .endBytes)
        #expect(try Fixture.spec("[framing]\ngap_chars = 2").delimiting == .gap)
        #expect(try Fixture.spec(Fixture.hdlcLayout).delimiting == .stuffing)
        #expect(try Fixture.spec(Fixture.sensorLayout).delimiting == .lengthField)
    }

    @Test func stuffingForms() throws {
        let hdlc = try Fixture.spec(Fixture.hdlcLayout)
        #expect(hdlc.stuffing == ByteStuffing(escape: 0x7D, form: .xor(0x20)))
        let slip = try Fixture.spec("""
            [framing]
            start = "C0"
            end = "C0"
            escape = "DB"
            escape_map = { "C0" = "DC", "db" = "DD", "11" = "E1" }
            """)
        #expect(slip.stuffing == ByteStuffing(escape: 0xDB, form: .map([0xC0: 0xDC, 0xDB: 0xDD, 0x11: 0xE1])))
    }

    // MARK: - Problems, each at its line

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var toml: String
        var line: Int
        var keyPath: String
        var problem: String
    }

    static let cases: [Case] = [
        Case(description: "no way to find the end", toml: "[framing]\nstart = \"AA\"", line: 1, keyPath: "framing",
             problem: "nothing says where a frame ends"),
        Case(description: "bad hex", toml: "[framing]\nstart = \"AG\"\nend = \"16\"", line: 2, keyPath: "framing.start",
             problem: "is not a sequence of hex bytes"),
        Case(description: "odd digits", toml: "[framing]\nend = \"A55\"", line: 2, keyPath: "framing.end",
             problem: "is not a sequence of hex bytes"),
        Case(description: "max_frame_bytes", toml: "[framing]\nend = \"16\"\nmax_frame_bytes = 5000", line: 3,
             keyPath: "framing.max_frame_bytes", problem: "out of range"),
        Case(description: "escape with two start bytes", toml: "[framing]\nstart = \"7E 7E\"\nend = \"7E\"\nescape = \"7D\"\nescape_xor = 0x20",
             line: 4, keyPath: "framing.escape", problem: "exactly one start byte and one end byte"),
        Case(description: "escape without start", toml: "[framing]\nend = \"7E\"\nescape = \"7D\"\nescape_xor = 0x20",
             line: 3, keyPath: "framing.escape", problem: "exactly one start byte and one end byte"),
        Case(description: "xor and map", toml: "[framing]\nstart = \"7E\"\nend = \"7E\"\nescape = \"7D\"\nescape_xor = 0x20\nescape_map = { \"7E\" = \"5E\" }",
             line: 6, keyPath: "framing.escape_map", problem: "a layout uses one"),
        Case(description: "escape without a form", toml: "[framing]\nstart = \"7E\"\nend = \"7E\"\nescape = \"7D\"",
             line: 4, keyPath: "framing.escape", problem: "needs escape_xor or escape_map"),
        Case(description: "escape_xor without escape", toml: "[framing]\nend = \"16\"\nescape_xor = 0x20",
             line: 3, keyPath: "framing.escape_xor", problem: "applies only with byte stuffing"),
        Case(description: "escape is a flag", toml: "[framing]\nstart = \"7E\"\nend = \"7E\"\nescape = \"7E\"\nescape_xor = 0x20",
             line: 4, keyPath: "framing.escape", problem: "is also a start or end byte"),
        Case(description: "xor turns a flag into a flag", toml: "[framing]\nstart = \"7E\"\nend = \"5E\"\nescape = \"7D\"\nescape_xor = 0x20",
             line: 5, keyPath: "framing.escape_xor", problem: "XOR 20 is a start or end byte"),
        Case(description: "map misses the escape byte", toml: "[framing]\nstart = \"C0\"\nend = \"C0\"\nescape = \"DB\"\nescape_map = { \"C0\" = \"DC\" }",
             line: 5, keyPath: "framing.escape_map", problem: "no entry for DB, the escape byte"),
        Case(description: "map sends a flag", toml: "[framing]\nstart = \"C0\"\nend = \"C0\"\nescape = \"DB\"\nescape_map = { \"C0\" = \"C0\", \"DB\" = \"DD\" }",
             line: 5, keyPath: "framing.escape_map", problem: "a start or end byte inside a frame"),
        Case(description: "map key of two bytes", toml: "[framing]\nstart = \"C0\"\nend = \"C0\"\nescape = \"DB\"\nescape_map = { \"C0DB\" = \"DC\" }",
             line: 5, keyPath: "framing.escape_map.C0DB", problem: "is not one hex byte"),
        Case(description: "length field over the start", toml: "[framing]\nstart = \"AA 55\"\n[framing.length_field]\noffset = 1\nsize = 1",
             line: 4, keyPath: "framing.length_field.offset", problem: "overlaps the start bytes (bytes 0…1)"),
        Case(description: "length field of 3 bytes", toml: "[framing]\n[framing.length_field]\noffset = 0\nsize = 3",
             line: 4, keyPath: "framing.length_field.size", problem: "3 bytes is not supported"),
        Case(description: "length field beyond the bound", toml: "[framing]\nmax_frame_bytes = 64\n[framing.length_field]\noffset = 63\nsize = 2",
             line: 4, keyPath: "framing.length_field.offset", problem: "beyond max_frame_bytes (64)"),
        Case(description: "unknown counts", toml: "[framing]\n[framing.length_field]\noffset = 0\nsize = 1\ncounts = \"bytes\"",
             line: 5, keyPath: "framing.length_field.counts", problem: "unknown value \"bytes\""),
        Case(description: "address over the start", toml: "[framing]\nstart = \"AA 55\"\nend = \"16\"\naddress_offset = 0",
             line: 4, keyPath: "framing.address_offset", problem: "overlaps the start bytes"),
        Case(description: "address inside the length field", toml: "[framing]\naddress_offset = 2\n[framing.length_field]\noffset = 1\nsize = 2",
             line: 2, keyPath: "framing.address_offset", problem: "inside the length field (bytes 1…2)"),
        Case(description: "payload inside the header", toml: "[framing]\nstart = \"AA\"\naddress_offset = 1\nend = \"16\"\npayload_offset = 1",
             line: 5, keyPath: "framing.payload_offset", problem: "the start bytes, address and length field end at 2"),
        Case(description: "checksum past the payload", toml: "[framing]\nstart = \"AA\"\nend = \"16\"\n[framing.checksum]\ntype = \"sum8\"\nfrom = 2",
             line: 6, keyPath: "framing.checksum.from", problem: "past the payload's end (byte 1)"),
        Case(description: "unknown checksum", toml: "[framing]\nend = \"16\"\n[framing.checksum]\ntype = \"crc8\"",
             line: 4, keyPath: "framing.checksum.type", problem: "unknown value \"crc8\""),
        Case(description: "checksum without type", toml: "[framing]\nend = \"16\"\n[framing.checksum]\norder = \"big\"",
             line: 3, keyPath: "framing.checksum.type", problem: "required key is missing"),
        Case(description: "fixed length too short", toml: "[framing]\nstart = \"AA 55\"\nlength = 4\n[framing.checksum]\ntype = \"crc32\"",
             line: 3, keyPath: "framing.length", problem: "cannot hold its header (2 bytes) and trailer (4 bytes)"),
        Case(description: "fixed length beyond the bound", toml: "[framing]\nlength = 200\nmax_frame_bytes = 100",
             line: 2, keyPath: "framing.length", problem: "longer than max_frame_bytes (100)"),
        Case(description: "gap out of range", toml: "[framing]\ngap_chars = 0.5",
             line: 2, keyPath: "framing.gap_chars", problem: "out of range"),
        Case(description: "unknown key", toml: "[framing]\nend = \"16\"\nstrat = \"AA\"",
             line: 3, keyPath: "framing.strat", problem: "unknown key"),
        Case(description: "unknown key in length_field", toml: "[framing]\n[framing.length_field]\noffset = 0\nsize = 1\nendian = \"big\"",
             line: 5, keyPath: "framing.length_field.endian", problem: "unknown key"),
        Case(description: "unknown key in checksum", toml: "[framing]\nend = \"16\"\n[framing.checksum]\ntype = \"lrc\"\nform = 0",
             line: 5, keyPath: "framing.checksum.form", problem: "unknown key"),
        Case(description: "a number where hex text belongs", toml: "[framing]\nend = 0x16",
             line: 2, keyPath: "framing.end", problem: "expected hex bytes as text, found a number"),
    ]

    @Test(arguments: cases)
    func problemAtItsLine(_ c: Case) throws {
        let diagnostics = Fixture.problems(c.toml)
        let found = try #require(diagnostics.first { $0.keyPath == c.keyPath }, "\(diagnostics)")
        #expect(found.line == c.line, "\(found)")
        #expect(found.problem.contains(c.problem), "\(found)")
        #expect(found.file == "device.toml")
    }

    @Test func typosGetASuggestion() {
        let diagnostics = Fixture.problems("[framing]\nend = \"16\"\nmax_frame_byte = 20\n[framing.checksum]\ntype = \"lrc\"\nfrm = 1")
        #expect(diagnostics.count == 2)
        #expect(diagnostics.contains { $0.keyPath == "framing.max_frame_byte" && $0.fix == "did you mean `max_frame_bytes`?" })
        #expect(diagnostics.contains { $0.keyPath == "framing.checksum.frm" && $0.fix == "did you mean `from`?" })
    }

    /// Every problem in one pass: a technician fixes the file once.
    @Test func severalProblemsAtOnce() {
        let diagnostics = Fixture.problems("""
            [framing]
            start = "AA 55"
            address_offset = 1
            payload_offset = 3
            [framing.length_field]
            offset = 0
            size = 1
            """)
        #expect(Set(diagnostics.map(\.keyPath)) == ["framing.length_field.offset", "framing.address_offset"])
        #expect(diagnostics.first { $0.keyPath == "framing.length_field.offset" }?.line == 6)
        #expect(diagnostics.first { $0.keyPath == "framing.address_offset" }?.line == 3)
    }

    /// A header field beyond the bound is one problem, not also a payload that cannot fit.
    @Test func oneProblemForOneMistake() {
        let diagnostics = Fixture.problems("[framing]\nmax_frame_bytes = 64\n[framing.length_field]\noffset = 63\nsize = 2")
        #expect(diagnostics.map(\.keyPath) == ["framing.length_field.offset"])
    }

    @Test func programmaticLayoutsAreCheckedToo() {
        #expect(throws: FramingSpecError.self) { try FramingSpec(start: [0xAA]) }
        #expect(throws: FramingSpecError.self) { try FramingSpec(fixedLength: 0) }
        #expect(throws: FramingSpecError.self) { try FramingSpec(end: [0x16], maxFrameBytes: 2) }
        #expect(throws: FramingSpecError.self) { try FramingSpec(end: [0x16], gapChars: 0) }
        do {
            _ = try FramingSpec(start: [0xAA], end: [0x16], addressOffset: 0)
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.map(\.key) == ["address_offset"])
            #expect(error.description.hasPrefix("address_offset: offset 0 overlaps the start bytes"))
        }
    }

    @Test func hexText() {
        #expect(HexBytes.parse("AA 55") == [0xAA, 0x55])
        #expect(HexBytes.parse("aa55") == [0xAA, 0x55])
        #expect(HexBytes.parse("0xAA 0X55") == [0xAA, 0x55])
        #expect(HexBytes.parse("  7e\t") == [0x7E])
        #expect(HexBytes.parse("A") == nil)
        #expect(HexBytes.parse("+A") == nil)
        #expect(HexBytes.parse("GG") == nil)
        #expect(HexBytes.parse("0x") == nil)
        #expect(HexBytes.text([0x0A, 0xFF]) == "0A FF")
    }
}
