/// Turns the bytes a serial port receives into frames of one declared layout.
///
/// Pure: bytes and instants in, events out; the serial adapter reads the port, calls
/// `receive`, and calls `silence` when `silenceDeadline` passes without a byte.
///
/// It never hands out a frame that fails a check its layout declares, and it resynchronises
/// after noise, garbage or a cut frame: at the head of its buffer it tries a frame, and when
/// the candidate fails it drops that candidate's first byte only and searches again, so a real
/// frame that began inside the failed candidate is still found. Bytes before a start sequence
/// are dropped. The buffer never holds more than `maxFrameBytes` plus one read.
public struct Framer<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let spec: FramingSpec
    /// The silence that ends a gap-delimited frame or cuts a partial one; nil: no gap rule.
    public let gap: Duration?
    public internal(set) var counters = FramerCounters()

    /// Received bytes not yet framed; `head` is where the current candidate begins.
    var buffer: [UInt8] = []
    var head = 0
    /// How far past `head` the current candidate's end has already been searched for.
    var scanned = 0
    /// The first check the current candidate failed while being extended to a later end sequence.
    var candidateFailure: FrameRejection?
    /// The candidate begins with the flag that closed the last frame (byte stuffing, shared flags).
    var headIsClosingFlag = false
    var lastByteAt: Instant?
    /// A gap-delimited frame overran `maxFrameBytes`: everything until a silence belongs to it.
    var skippingUntilSilence = false
    /// Bytes are being dropped since the last frame (one resync per run).
    var inDiscardRun = false
    /// Dropped bytes not yet reported in a `.discarded` event.
    var unreportedDiscards = 0
    let stuffingTables: StuffingTables?

    /// `gap` is `spec.gapChars` character times of the line (`FramingSpec.gap(on:)`); a
    /// gap-delimited layout needs one, or its frames end only at `reset()`.
    public init(spec: FramingSpec, gap: Duration?) {
        self.spec = spec
        self.gap = gap
        if let stuffing = spec.stuffing, let start = spec.start.first, let end = spec.end.first {
            stuffingTables = stuffing.tables(start: start, end: end)
        } else {
            stuffingTables = nil
        }
        buffer.reserveCapacity(spec.maxFrameBytes)
    }

    /// Frames the bytes of one read, received at `now`. A silence of `gap` since the previous
    /// read first ends what was buffered (a gap-delimited frame, or a partial frame, cut) —
    /// unless the caller knows the bytes were `contiguous` with the previous read's (they waited
    /// in the driver: the previous read filled its buffer), however late it read them.
    public mutating func receive<Bytes: Collection>(_ bytes: Bytes, at now: Instant, contiguous: Bool = false) -> [FramerEvent]
    where Bytes.Element == UInt8 {
        var events: [FramerEvent] = []
        guard !bytes.isEmpty else { return events }
        if !contiguous, silenceElapsed(at: now) { endOfInput(&events) }
        lastByteAt = now
        if skippingUntilSilence {
            discard(bytes.count)
        } else {
            buffer.append(contentsOf: bytes)
            process(final: false, &events)
            compact()
        }
        reportDiscards(&events)
        return events
    }

    /// The port received nothing until `now`: once the silence reaches `gap`, what is buffered
    /// ends there (a gap-delimited frame is complete, a partial frame is cut).
    public mutating func silence(at now: Instant) -> [FramerEvent] {
        var events: [FramerEvent] = []
        if silenceElapsed(at: now) { endOfInput(&events) }
        reportDiscards(&events)
        return events
    }

    /// When to call `silence` if no byte comes first; nil when nothing waits for a silence.
    public var silenceDeadline: Instant? {
        guard let gap, let lastByteAt, holdsPartialFrame || skippingUntilSilence else { return nil }
        return lastByteAt.advanced(by: gap)
    }

    /// The port was closed or reopened: no byte will continue what is buffered. Complete frames
    /// still in the buffer come out; a partial frame is dropped and counted as truncated.
    public mutating func reset() -> [FramerEvent] {
        var events: [FramerEvent] = []
        endOfInput(&events)
        reportDiscards(&events)
        lastByteAt = nil
        inDiscardRun = false
        return events
    }

    /// Bytes held for a frame not complete yet (never more than `maxFrameBytes` plus one read).
    public var bufferedBytes: Int { buffer.count - head }

    // MARK: - Internals shared with the search

    var holdsPartialFrame: Bool {
        let available = buffer.count - head
        return available > 0 && !(spec.sharesFlag && available == 1)
    }

    private func silenceElapsed(at now: Instant) -> Bool {
        guard let gap, let lastByteAt, holdsPartialFrame || skippingUntilSilence else { return false }
        return lastByteAt.duration(to: now) >= gap
    }

    /// Nothing continues the buffered bytes: frame what can be framed, drop the rest.
    private mutating func endOfInput(_ events: inout [FramerEvent]) {
        skippingUntilSilence = false
        process(final: true, &events)
        compact()
    }

    mutating func discard(_ count: Int) {
        guard count > 0 else { return }
        counters.discardedBytes += count
        unreportedDiscards += count
        if !inDiscardRun {
            inDiscardRun = true
            counters.resyncs += 1
        }
    }

    mutating func reportDiscards(_ events: inout [FramerEvent]) {
        guard unreportedDiscards > 0 else { return }
        events.append(.discarded(bytes: unreportedDiscards))
        unreportedDiscards = 0
    }

    /// A new candidate begins at `index`.
    mutating func moveHead(to index: Int) {
        head = index
        scanned = 0
        candidateFailure = nil
        headIsClosingFlag = false
    }

    /// Drops the bytes before `head`: at most one candidate's worth stays, at the front.
    private mutating func compact() {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if head > 0 {
            buffer.removeSubrange(..<head)
        }
        head = 0
    }
}

extension FramingSpec {
    /// The silence `gapChars` character times make on `line`; nil when the layout has no gap rule.
    public func gap(on line: LineSettings) -> Duration? {
        gapChars.map { line.gap(characters: $0) }
    }
}
