import GatewayCore

extension FramingSpec {
    /// Reads a device file's `[framing]` table (`reader` is that table's reader). Every problem
    /// goes to the reader's diagnostics with its file and line, unknown keys included; returns
    /// nil when there was any.
    public static func parse(_ reader: ConfigReader) -> FramingSpec? {
        let before = reader.diagnostics.all.count
        let offsets = Int64(0)...Int64(FramingLimits.maxFrameBytes - 1)
        let start = hexBytes(reader, "start")
        let end = hexBytes(reader, "end")
        let fixedLength = reader.int("length", required: false, range: 1...Int64(FramingLimits.maxFrameBytes))
        let gapChars = reader.double("gap_chars", required: false, range: FramingLimits.gapChars,
                                     fix: "use a value from \(FramingLimits.gapChars.lowerBound) to \(FramingLimits.gapChars.upperBound) (Modbus RTU uses 3.5)")
        let maxFrameBytes = reader.int("max_frame_bytes", default: FramingLimits.defaultMaxFrameBytes,
                                       range: FramingLimits.minFrameBytes...FramingLimits.maxFrameBytes)
        let payloadOffset = reader.int("payload_offset", required: false, range: offsets)
        let addressOffset = reader.int("address_offset", required: false, range: offsets)
        let stuffing = parseStuffing(reader)
        let lengthFieldReader = reader.table("length_field")
        let lengthField = lengthFieldReader.flatMap(parseLengthField)
        let checksumReader = reader.table("checksum")
        let checksum = checksumReader.flatMap(parseChecksum)
        reader.finish()
        guard reader.diagnostics.all.count == before else { return nil }
        do {
            return try FramingSpec(start: start ?? [], end: end ?? [], fixedLength: fixedLength.map(Int.init),
                                   lengthField: lengthField, gapChars: gapChars, maxFrameBytes: maxFrameBytes,
                                   payloadOffset: payloadOffset.map(Int.init), addressOffset: addressOffset.map(Int.init),
                                   stuffing: stuffing, checksum: checksum)
        } catch {
            let tables = ["length_field": lengthFieldReader, "checksum": checksumReader]
            for problem in error.problems {
                // `length_field.offset` is reported at its own table's line.
                let parts = problem.key?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
                if parts.count == 2, let table = tables[parts[0]] ?? nil {
                    table.report(parts[1], problem.problem, fix: problem.fix)
                } else {
                    reader.report(problem.key, problem.problem, fix: problem.fix)
                }
            }
            return nil
        }
    }

    /// A hex byte sequence such as `"AA 55"`; nil when absent or wrong (reported).
    private static func hexBytes(_ reader: ConfigReader, _ key: String) -> [UInt8]? {
        if case .integer? = reader.table[key]?.value {
            reader.report(key, "expected hex bytes as text, found a number", fix: "quote it: \(key) = \"7E\" (spaces between bytes allowed)")
            reader.markKnown(key)
            return nil
        }
        guard let text = reader.string(key, required: false) else { return nil }
        guard let bytes = HexBytes.parse(text), !bytes.isEmpty else {
            reader.report(key, "\"\(text)\" is not a sequence of hex bytes", fix: "write each byte as two hex digits, e.g. \(key) = \"AA 55\"")
            return nil
        }
        return bytes
    }

    /// One hex byte: `"7D"`.
    private static func hexByte(_ reader: ConfigReader, _ key: String) -> UInt8? {
        guard let bytes = hexBytes(reader, key) else { return nil }
        guard bytes.count == 1 else {
            reader.report(key, "\(bytes.count) bytes where one is needed", fix: "write one byte, e.g. \(key) = \"7D\"")
            return nil
        }
        return bytes[0]
    }

    private static func parseStuffing(_ reader: ConfigReader) -> ByteStuffing? {
        let escape = hexByte(reader, "escape")
        let mask = reader.int("escape_xor", required: false, range: 1...255, fix: "use a byte from 0x01 to 0xFF, e.g. escape_xor = 0x20 (HDLC)")
        let map = reader.table("escape_map").flatMap(parseEscapeMap)
        guard reader.has("escape") else {
            for key in ["escape_xor", "escape_map"] where reader.has(key) {
                reader.report(key, "\(key) applies only with byte stuffing", fix: "add escape = \"7D\" (the escape byte), or remove \(key)")
            }
            return nil
        }
        switch (reader.has("escape_xor"), reader.has("escape_map")) {
        case (true, true):
            reader.report("escape_map", "escape_xor and escape_map are two ways to stuff bytes: a layout uses one", fix: "remove one of them")
        case (false, false):
            reader.report("escape", "byte stuffing needs escape_xor or escape_map",
                          fix: "add escape_xor = 0x20 (HDLC) or escape_map = { \"C0\" = \"DC\", \"DB\" = \"DD\" } (SLIP)")
        default:
            break
        }
        guard let escape else { return nil }
        if let mask { return ByteStuffing(escape: escape, form: .xor(UInt8(mask))) }
        if let map { return ByteStuffing(escape: escape, form: .map(map)) }
        return nil
    }

    /// `{ "C0" = "DC", "DB" = "DD" }`: each escaped byte and the byte sent after the escape.
    private static func parseEscapeMap(_ reader: ConfigReader) -> [UInt8: UInt8]? {
        var map: [UInt8: UInt8] = [:]
        var complete = true
        for key in reader.table.keys {
            guard let keyBytes = HexBytes.parse(key), keyBytes.count == 1 else {
                reader.report(key, "\"\(key)\" is not one hex byte", fix: "name each escaped byte with two hex digits, e.g. \"C0\" = \"DC\"")
                reader.markKnown(key)
                complete = false
                continue
            }
            guard let value = hexByte(reader, key) else { complete = false; continue }
            if map.updateValue(value, forKey: keyBytes[0]) != nil {
                reader.report(key, "\(HexBytes.text(keyBytes)) is mapped twice")
                complete = false
            }
        }
        if map.isEmpty, complete {
            reader.report(nil, "escape_map is empty", fix: "map each escaped byte to the byte sent after the escape, e.g. { \"C0\" = \"DC\", \"DB\" = \"DD\" }")
            return nil
        }
        reader.finish()
        return complete ? map : nil
    }

    private static func parseLengthField(_ reader: ConfigReader) -> LengthField? {
        let offset = reader.int("offset", required: true, range: 0...Int64(FramingLimits.maxFrameBytes - 1))
        let size = reader.int("size", required: true, range: 1...4, fix: "use 1, 2 or 4")
        if let size, !FramingLimits.lengthFieldSizes.contains(Int(size)) {
            reader.report("size", "a length field of \(size) bytes is not supported", fix: "use 1, 2 or 4")
        }
        let order = reader.choice("order", as: ByteOrder.self, required: false) ?? .big
        let counts = reader.choice("counts", as: LengthField.Counts.self, required: false) ?? .payload
        let adjustLimit = Int64(FramingLimits.maxLengthAdjust)
        let adjust = reader.int("adjust", required: false, range: -adjustLimit...adjustLimit) ?? 0
        reader.finish()
        guard let offset, let size else { return nil }
        return LengthField(offset: Int(offset), size: Int(size), order: order, counts: counts, adjust: Int(adjust))
    }

    private static func parseChecksum(_ reader: ConfigReader) -> Checksum? {
        let type = reader.choice("type", as: ChecksumType.self, required: true)
        let from = reader.int("from", required: false, range: 0...Int64(FramingLimits.maxFrameBytes - 1))
        let order = reader.choice("order", as: ByteOrder.self, required: false)
        reader.finish()
        guard let type else { return nil }
        return Checksum(type: type, from: from.map(Int.init), order: order)
    }
}
