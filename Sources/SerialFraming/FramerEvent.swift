/// What the framer made of the bytes it was given, in stream order.
public enum FramerEvent: Sendable, Equatable {
    /// A frame that passed every check its layout declares.
    case frame(ReceivedFrame)
    /// A candidate that began like a frame and failed a check; its first byte is dropped and
    /// the search goes on from the next one.
    case rejected(FrameRejection)
    /// Bytes that belong to no frame: noise before a start, the bytes of failed and cut
    /// candidates. One event per run of them within one call.
    case discarded(bytes: Int)
}

/// One frame as the device sent it, stuffing removed.
public struct ReceivedFrame: Sendable, Equatable {
    /// The whole frame, start bytes to end bytes.
    public let bytes: [UInt8]
    /// Where the codec's bytes are in `bytes`.
    public let payloadRange: Range<Int>
    /// The device's bus address, when the layout has an address byte.
    public let address: UInt8?

    public init(bytes: [UInt8], payloadRange: Range<Int>, address: UInt8?) {
        self.bytes = bytes
        self.payloadRange = payloadRange
        self.address = address
    }

    /// The codec's bytes (a slice of `bytes`: its indices are the frame's).
    public var payload: ArraySlice<UInt8> { bytes[payloadRange] }
}

/// Why a candidate was not a frame.
public enum FrameRejection: String, Sendable, Equatable, CaseIterable {
    /// The checksum did not match.
    case checksum
    /// The end bytes were not where the length put them.
    case badEnd
    /// An escape byte was last, or followed by a byte that stands for nothing.
    case badEscape
    /// A declared length too short for the layout's fixed parts, or one that disagrees with the
    /// frame's fixed length or with where the end flag was found.
    case badLength
    /// Longer than `max_frame_bytes`: a declared length, or no end found within the bound.
    case oversized
    /// Cut: a silence, a reset, or a new start byte (with byte stuffing) came before the end.
    case truncated
}

/// Running totals since the framer was made; the serial adapter exports them per device line.
public struct FramerCounters: Sendable, Equatable {
    public var frames = 0
    public var checksumFailures = 0
    /// Times the framer lost sync: runs of discarded bytes between two frames.
    public var resyncs = 0
    public var discardedBytes = 0
    public var oversized = 0
    public var truncated = 0
    public var badEnd = 0
    public var badEscape = 0
    public var badLength = 0

    public init() {}

    mutating func count(_ rejection: FrameRejection) {
        switch rejection {
        case .checksum: checksumFailures += 1
        case .badEnd: badEnd += 1
        case .badEscape: badEscape += 1
        case .badLength: badLength += 1
        case .oversized: oversized += 1
        case .truncated: truncated += 1
        }
    }

    /// Candidates rejected, whatever the reason.
    public var rejected: Int { checksumFailures + badEnd + badEscape + badLength + oversized + truncated }
}
