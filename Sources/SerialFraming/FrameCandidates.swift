/// Trying the candidate at `head`, one way per `FramingSpec.Delimiting`, and the checks every
/// candidate must pass.
extension Framer {
    /// A frame of `length` bytes at `head` (a fixed length, or what a length field declared).
    func examineCounted(length: Int) -> Examination {
        guard buffer.count - head >= length else { return .needMore }
        return buffer.withUnsafeBufferPointer { all in
            let frame = UnsafeBufferPointer(rebasing: all[head..<(head + length)])
            if let rejection = check(frame) { return .rejected(rejection) }
            return .frame(receivedFrame(Array(frame)), wireLength: length)
        }
    }

    /// Reads the length field as soon as it is in; a length beyond the bound is refused at
    /// once rather than waited for.
    func examineLengthField() -> Examination {
        guard let field = spec.lengthField else { return .rejected(.badLength) }
        guard buffer.count - head >= field.end else { return .needMore }
        let value = buffer.withUnsafeBufferPointer { field.order.read($0, at: head + field.offset, size: field.size) }
        let length = spec.declaredLength(fieldValue: Int(value), field)
        if length > spec.maxFrameBytes { return .rejected(.oversized) }
        if length < spec.minimumLength || length < field.end { return .rejected(.badLength) }
        return examineCounted(length: length)
    }

    /// The first end sequence that leaves room for the fixed parts. An end sequence may also
    /// occur inside a payload or checksum, so when the frame it closes fails, the candidate is
    /// extended to the next one, up to `maxFrameBytes`.
    mutating func examineEndBytes() -> Examination {
        let end = spec.end
        let limit = min(buffer.count - head, spec.maxFrameBytes)
        var position = max(scanned, spec.minimumLength - end.count)
        var failure = candidateFailure
        let found: ReceivedFrame? = buffer.withUnsafeBufferPointer { all in
            let window = UnsafeBufferPointer(rebasing: all[head..<(head + limit)])
            while position + end.count <= window.count {
                if window[position] == end[0], (1..<end.count).allSatisfy({ window[position + $0] == end[$0] }) {
                    let frame = UnsafeBufferPointer(rebasing: window[0..<(position + end.count)])
                    guard let rejection = check(frame) else { return receivedFrame(Array(frame)) }
                    failure = failure ?? rejection
                }
                position += 1
            }
            return nil
        }
        if let found { return .frame(found, wireLength: found.bytes.count) }
        scanned = position
        candidateFailure = failure
        if buffer.count - head >= spec.maxFrameBytes { return .rejected(failure ?? .oversized) }
        return .needMore
    }

    /// With byte stuffing the first flag after the start ends the frame: an end byte closes
    /// it, a start byte (when the two differ) means it was cut. No escape state is needed to
    /// find it, since flags never occur escaped.
    mutating func examineStuffed() -> Examination {
        guard let tables = stuffingTables, let startFlag = spec.start.first, let endFlag = spec.end.first else {
            return .rejected(.badEscape)
        }
        let limit = min(buffer.count - head, spec.maxFrameBytes)
        var position = max(scanned, 1)
        let flag: UInt8? = buffer.withUnsafeBufferPointer { all in
            while position < limit {
                let byte = all[head + position]
                if byte == endFlag || byte == startFlag { return byte }
                position += 1
            }
            return nil
        }
        guard let flag else {
            scanned = position
            return buffer.count - head >= spec.maxFrameBytes ? .rejected(.oversized) : .needMore
        }
        if flag != endFlag { return .cut(at: head + position) }
        if spec.sharesFlag, position == 1 { return .fill }
        var frame: [UInt8] = []
        frame.reserveCapacity(position + 1)
        frame.append(startFlag)
        let unstuffed = buffer.withUnsafeBufferPointer { all in
            tables.unstuff(UnsafeBufferPointer(rebasing: all[(head + 1)..<(head + position)]), into: &frame)
        }
        guard unstuffed else { return .rejected(.badEscape) }
        frame.append(endFlag)
        if let rejection = frame.withUnsafeBufferPointer({ check($0) }) { return .rejected(rejection) }
        // A shared flag closes this frame and opens the next: it stays in the buffer.
        return .frame(receivedFrame(frame), wireLength: spec.sharesFlag ? position : position + 1)
    }

    /// Everything until the silence is the frame.
    func examineGapDelimited(final: Bool) -> Examination {
        let available = buffer.count - head
        if available > spec.maxFrameBytes { return .overrun }
        guard final else { return .needMore }
        return examineCounted(length: available)
    }

    /// Every check the layout declares, on a frame as its sender built it (unstuffed).
    func check(_ frame: UnsafeBufferPointer<UInt8>) -> FrameRejection? {
        let length = frame.count
        if length > spec.maxFrameBytes { return .oversized }
        if length < spec.minimumLength { return .badLength }
        if let fixed = spec.fixedLength, length != fixed { return .badLength }
        if let field = spec.lengthField {
            guard length >= field.end else { return .badLength }
            let value = Int(field.order.read(frame, at: field.offset, size: field.size))
            if spec.declaredLength(fieldValue: value, field) != length { return .badLength }
        }
        let end = spec.end
        for index in end.indices where frame[length - end.count + index] != end[index] { return .badEnd }
        if let checksum = spec.checksum {
            let position = length - spec.trailerSize
            let from = spec.checksumFrom
            guard from <= position else { return .badLength }
            let expected = checksum.type.compute(UnsafeBufferPointer(rebasing: frame[from..<position]))
            if checksum.order.read(frame, at: position, size: checksum.type.size) != expected { return .checksum }
        }
        return nil
    }

    /// A checked frame as the codec sees it.
    func receivedFrame(_ bytes: [UInt8]) -> ReceivedFrame {
        let payloadEnd = max(spec.payloadOffset, bytes.count - spec.trailerSize)
        let address = spec.addressOffset.flatMap { $0 < bytes.count ? bytes[$0] : nil }
        return ReceivedFrame(bytes: bytes, payloadRange: spec.payloadOffset..<payloadEnd, address: address)
    }
}
