extension FramingSpec {
    /// What is wrong with this layout, each problem under the `[framing]` key it is about.
    /// Empty for every value that exists (the initializer throws otherwise); the parser
    /// reports these at their keys' lines.
    func problems() -> [FramingSpecProblem] {
        var found: [FramingSpecProblem] = []
        func problem(_ key: String?, _ text: String, fix: String? = nil) {
            found.append(FramingSpecProblem(key: key, text, fix: fix))
        }
        let frameBytes = FramingLimits.minFrameBytes...FramingLimits.maxFrameBytes
        if !frameBytes.contains(maxFrameBytes) {
            problem("max_frame_bytes", "\(maxFrameBytes) is out of range",
                    fix: "use a value from \(frameBytes.lowerBound) to \(frameBytes.upperBound)")
            return found   // every other bound is measured against it
        }
        for (key, bytes) in [("start", start), ("end", end)] where bytes.count > FramingLimits.maxDelimiterBytes {
            problem(key, "\(bytes.count) bytes is too long for a delimiter", fix: "use at most \(FramingLimits.maxDelimiterBytes) bytes")
        }
        if let gapChars, !FramingLimits.gapChars.contains(gapChars) {
            problem("gap_chars", "\(gapChars) is out of range",
                    fix: "use a value from \(FramingLimits.gapChars.lowerBound) to \(FramingLimits.gapChars.upperBound) (Modbus RTU uses 3.5)")
        }
        if let stuffing {
            if start.count == 1, end.count == 1 {
                found += stuffing.problems(start: start[0], end: end[0])
            } else {
                problem("escape", "byte stuffing needs exactly one start byte and one end byte",
                        fix: "declare start = \"7E\" and end = \"7E\" (HDLC) or start = \"C0\" and end = \"C0\" (SLIP)")
            }
        }
        headerProblems(&found)
        trailerProblems(&found)
        return found
    }

    /// The length field, the address and the payload's start: after the start bytes, inside a
    /// frame, not on top of each other.
    private func headerProblems(_ found: inout [FramingSpecProblem]) {
        func problem(_ key: String, _ text: String, fix: String? = nil) {
            found.append(FramingSpecProblem(key: key, text, fix: fix))
        }
        let startText = start.isEmpty ? "" : " (bytes 0…\(start.count - 1))"
        var headerEnd = start.count
        if let field = lengthField {
            if !FramingLimits.lengthFieldSizes.contains(field.size) {
                problem("length_field.size", "a length field of \(field.size) bytes is not supported", fix: "use 1, 2 or 4")
            }
            if field.offset < 0 {
                problem("length_field.offset", "\(field.offset) is before the frame's first byte")
            } else if field.offset < start.count {
                problem("length_field.offset", "offset \(field.offset) overlaps the start bytes\(startText)",
                        fix: "use offset = \(start.count) or more")
            } else if field.end > maxFrameBytes {
                problem("length_field.offset", "the field ends at byte \(field.end), beyond max_frame_bytes (\(maxFrameBytes))")
            }
            if abs(field.adjust) > FramingLimits.maxLengthAdjust {
                problem("length_field.adjust", "\(field.adjust) is out of range",
                        fix: "use a value from -\(FramingLimits.maxLengthAdjust) to \(FramingLimits.maxLengthAdjust)")
            }
            headerEnd = max(headerEnd, field.end)
        }
        if let address = addressOffset {
            if address < 0 {
                problem("address_offset", "\(address) is before the frame's first byte")
            } else if address < start.count {
                problem("address_offset", "offset \(address) overlaps the start bytes\(startText)",
                        fix: "use address_offset = \(start.count) or more")
            } else if address >= maxFrameBytes {
                problem("address_offset", "offset \(address) is beyond max_frame_bytes (\(maxFrameBytes))")
            }
            if let field = lengthField, (field.offset..<field.end).contains(address) {
                problem("address_offset", "offset \(address) is inside the length field (bytes \(field.offset)…\(field.end - 1))")
            }
            headerEnd = max(headerEnd, address + 1)
        }
        // A header already reported out of bounds would only be reported again here.
        let headerReported = found.contains { $0.key.map(["length_field.offset", "address_offset"].contains) ?? false }
        if payloadOffset < headerEnd {
            problem("payload_offset", "the payload cannot start at \(payloadOffset): the start bytes, address and length field end at \(headerEnd)",
                    fix: "use payload_offset = \(headerEnd) or more, or leave it out")
        } else if minimumLength > maxFrameBytes, !headerReported {
            problem("payload_offset", "the header (\(payloadOffset) bytes) and trailer (\(trailerSize) bytes) exceed max_frame_bytes (\(maxFrameBytes))")
        }
    }

    /// The fixed length against the fixed parts, and what the checksum covers.
    private func trailerProblems(_ found: inout [FramingSpecProblem]) {
        if let fixedLength {
            if fixedLength > maxFrameBytes {
                found.append(FramingSpecProblem(key: "length", "\(fixedLength) is longer than max_frame_bytes (\(maxFrameBytes))",
                                                fix: "raise max_frame_bytes or correct the length"))
            } else if fixedLength < max(1, minimumLength) {
                found.append(FramingSpecProblem(
                    key: "length", "a frame of \(fixedLength) bytes cannot hold its header (\(payloadOffset) bytes) and trailer (\(trailerSize) bytes)",
                    fix: "use length = \(max(1, minimumLength)) or more"))
            }
        }
        if let checksum, let from = checksum.from {
            // With a payload of varying size the check must cover at least an empty payload's frame.
            let payloadEnd = fixedLength.map { $0 - trailerSize } ?? payloadOffset
            if from < 0 {
                found.append(FramingSpecProblem(key: "checksum.from", "\(from) is before the frame's first byte", fix: "use 0 or more"))
            } else if from > payloadEnd {
                found.append(FramingSpecProblem(key: "checksum.from", "\(from) is past the payload's end (byte \(payloadEnd)): the check would cover nothing",
                                                fix: "use from = \(start.count) (right after the start bytes) or another header byte"))
            }
        }
    }
}
