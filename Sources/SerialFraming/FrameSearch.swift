/// The resynchronising search: find a start, try the candidate there, and on failure drop
/// one byte and search again.
extension Framer {
    /// What the candidate at `head` turned out to be.
    enum Examination {
        case frame(ReceivedFrame, wireLength: Int)
        case needMore
        case rejected(FrameRejection)
        /// Gap-delimited bytes beyond `maxFrameBytes`: everything until a silence is dropped.
        case overrun
        /// Two shared flags with nothing between: idle fill, dropped without counting.
        case fill
        /// With byte stuffing, a start byte at this index before the end: the frame was cut.
        case cut(at: Int)
    }

    /// Frames what the buffer holds. `final`: no byte will follow (a silence, a reset), so a
    /// candidate that needs more is cut instead of waited for.
    mutating func process(final: Bool, _ events: inout [FramerEvent]) {
        var truncationCounted = false
        while head < buffer.count {
            let startCount = spec.start.count
            if startCount > 0 {
                let found = findStart(from: head)
                if found > head {
                    discard(found - head)
                    moveHead(to: found)
                }
                // Only (the first bytes of) a start sequence: nothing to try yet.
                let available = buffer.count - head
                if available == 0 || available < startCount || (final && available == startCount) {
                    if final {
                        // A lone shared flag is fill; anything else is noise.
                        discard(spec.sharesFlag ? 0 : available)
                        moveHead(to: buffer.count)
                    }
                    break
                }
            }
            switch examine(final: final) {
            case .frame(let frame, let wireLength):
                reportDiscards(&events)
                events.append(.frame(frame))
                counters.frames += 1
                inDiscardRun = false
                moveHead(to: head + max(1, wireLength))
                headIsClosingFlag = spec.sharesFlag
            case .needMore:
                guard final else { return }
                if let failure = candidateFailure {
                    reject(failure, &events)
                } else if !truncationCounted {
                    reject(.truncated, &events)
                    truncationCounted = true
                }
                dropFailedCandidate()
            case .rejected(let rejection):
                reject(rejection, &events)
                dropFailedCandidate()
            case .overrun:
                reject(.oversized, &events)
                discard(buffer.count - head)
                moveHead(to: buffer.count)
                skippingUntilSilence = gap != nil
            case .fill:
                moveHead(to: head + 1)
            case .cut(let index):
                reject(.truncated, &events)
                discard(index - head)
                moveHead(to: index)
            }
        }
    }

    private mutating func examine(final: Bool) -> Examination {
        switch spec.delimiting {
        case .stuffing: examineStuffed()
        case .fixedLength: examineCounted(length: spec.fixedLength ?? spec.minimumLength)
        case .lengthField: examineLengthField()
        case .endBytes: examineEndBytes()
        case .gap: examineGapDelimited(final: final)
        }
    }

    private mutating func reject(_ rejection: FrameRejection, _ events: inout [FramerEvent]) {
        reportDiscards(&events)
        counters.count(rejection)
        events.append(.rejected(rejection))
    }

    /// One byte, so a frame that began inside the failed candidate is still found; a
    /// gap-delimited layout without start bytes has no other place a frame could begin.
    private mutating func dropFailedCandidate() {
        let count = spec.delimiting == .gap && spec.start.isEmpty ? buffer.count - head : 1
        // A flag that closed the last frame belongs to it: it is no noise.
        discard(headIsClosingFlag ? count - 1 : count)
        moveHead(to: head + count)
    }

    /// The first index from `from` where the start sequence begins, or where its first bytes
    /// end the buffer; `buffer.count` when neither.
    private func findStart(from: Int) -> Int {
        let start = spec.start
        return buffer.withUnsafeBufferPointer { bytes in
            start.withUnsafeBufferPointer { start in
                let first = start[0]
                var index = from
                while index < bytes.count {
                    if bytes[index] == first {
                        var matched = 1
                        while matched < start.count, index + matched < bytes.count, bytes[index + matched] == start[matched] {
                            matched += 1
                        }
                        if matched == start.count || index + matched == bytes.count { return index }
                    }
                    index += 1
                }
                return bytes.count
            }
        }
    }
}
