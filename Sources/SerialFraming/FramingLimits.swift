/// Bounds on a declared frame layout. The framer's buffer never holds more than
/// `maxFrameBytes` plus one read, so these also bound its memory.
public enum FramingLimits {
    /// The largest frame a layout may declare, on the wire (stuffed, when byte stuffing is used).
    public static let maxFrameBytes = 4096
    /// The smallest `max_frame_bytes`: a start byte, a payload byte, a checksum byte and an end byte.
    public static let minFrameBytes = 4
    /// `max_frame_bytes` when a layout does not say.
    public static let defaultMaxFrameBytes = 1024
    /// Start and end sequences longer than this are not framing but content.
    public static let maxDelimiterBytes = 8
    /// Sizes a length field may have.
    public static let lengthFieldSizes: Set<Int> = [1, 2, 4]
    /// A length field's adjustment, either way: no frame is longer than this.
    public static let maxLengthAdjust = maxFrameBytes
    /// Silence, in character times, that may end a frame: below one character a slow UART's
    /// jitter would split frames; above this it is no longer a gap but a pause between polls.
    public static let gapChars: ClosedRange<Double> = 1...1000
}
