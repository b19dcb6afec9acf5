/// How one device's frames are laid out on the wire, as its device file's `[framing]` table
/// declares it (`FramingSpec.parse`): `[start][header…][payload][checksum][end]`.
///
/// Offsets count from a frame's first byte, start bytes included, in the frame as it is before
/// byte stuffing. A value always satisfies `problems()` (the initializer throws otherwise), so
/// the framer and the encoder rely on its offsets fitting together.
public struct FramingSpec: Sendable, Equatable {
    /// A header field holding the frame's length.
    public struct LengthField: Sendable, Equatable {
        /// What the field's value (plus `adjust`) measures.
        public enum Counts: String, CaseIterable, Sendable {
            /// The payload only.
            case payload
            /// Every byte after the field, to the frame's end.
            case afterField = "after_field"
            /// The whole frame.
            case frame
        }

        public let offset: Int
        /// 1, 2 or 4 bytes.
        public let size: Int
        public let order: ByteOrder
        public let counts: Counts
        /// Added to the field's value before use (Wireshark's length adjustment): devices that
        /// count their checksum or a command byte in "the length" need it.
        public let adjust: Int

        public init(offset: Int, size: Int, order: ByteOrder = .big, counts: Counts = .payload, adjust: Int = 0) {
            self.offset = offset
            self.size = size
            self.order = order
            self.counts = counts
            self.adjust = adjust
        }

        /// The first byte after the field.
        public var end: Int { offset + size }
        /// The largest value the field can hold.
        var maxValue: Int { size >= 4 ? Int(UInt32.max) : (1 << (8 * size)) - 1 }
    }

    /// The frame's check, its trailer right before the end bytes.
    public struct Checksum: Sendable, Equatable {
        public let type: ChecksumType
        /// The first byte the check covers; nil: the byte right after the start bytes.
        public let from: Int?
        public let order: ByteOrder

        /// `order` nil: the type's usual order (`ChecksumType.defaultOrder`).
        public init(type: ChecksumType, from: Int? = nil, order: ByteOrder? = nil) {
            self.type = type
            self.from = from
            self.order = order ?? type.defaultOrder
        }
    }

    /// How the framer finds where a frame ends, from what the layout declares.
    public enum Delimiting: Sendable, Equatable {
        /// The first unescaped end byte. A fixed length or a length field is then checked
        /// against the unstuffed frame: stuffing makes the wire length differ from either.
        case stuffing
        case fixedLength
        case lengthField
        /// The first end sequence far enough from the start to leave room for the fixed parts.
        case endBytes
        /// A silence of `gapChars` character times.
        case gap
    }

    public let start: [UInt8]
    public let end: [UInt8]
    /// Every frame's length, when they are all one size.
    public let fixedLength: Int?
    public let lengthField: LengthField?
    /// Silence, in character times, that ends a gap-delimited frame or cuts a partial one.
    public let gapChars: Double?
    /// The longest frame on the wire (stuffed, with byte stuffing).
    public let maxFrameBytes: Int
    /// Where the payload begins: as declared, or right after the start bytes, the address and
    /// the length field, whichever ends last.
    public let payloadOffset: Int
    /// The byte holding the device's bus address.
    public let addressOffset: Int?
    public let stuffing: ByteStuffing?
    public let checksum: Checksum?
    public let delimiting: Delimiting

    public init(start: [UInt8] = [], end: [UInt8] = [], fixedLength: Int? = nil, lengthField: LengthField? = nil,
                gapChars: Double? = nil, maxFrameBytes: Int = FramingLimits.defaultMaxFrameBytes,
                payloadOffset: Int? = nil, addressOffset: Int? = nil, stuffing: ByteStuffing? = nil,
                checksum: Checksum? = nil) throws(FramingSpecError) {
        self.start = start
        self.end = end
        self.fixedLength = fixedLength
        self.lengthField = lengthField
        self.gapChars = gapChars
        self.maxFrameBytes = maxFrameBytes
        self.payloadOffset = payloadOffset ?? max(start.count, addressOffset.map { $0 + 1 } ?? 0, lengthField?.end ?? 0)
        self.addressOffset = addressOffset
        self.stuffing = stuffing
        self.checksum = checksum
        let delimiting: Delimiting? =
            if stuffing != nil { .stuffing }
            else if fixedLength != nil { .fixedLength }
            else if lengthField != nil { .lengthField }
            else if !end.isEmpty { .endBytes }
            else if gapChars != nil { .gap }
            else { nil }
        self.delimiting = delimiting ?? .gap
        var problems = problems()
        if delimiting == nil {
            problems.insert(FramingSpecProblem(key: nil, "nothing says where a frame ends",
                                               fix: "declare length, [framing.length_field], end bytes, escape (byte stuffing) or gap_chars"), at: 0)
        }
        if !problems.isEmpty { throw FramingSpecError(problems: problems) }
    }

    // MARK: - Derived layout

    var checksumSize: Int { checksum?.type.size ?? 0 }
    /// The first byte the checksum covers.
    var checksumFrom: Int { checksum?.from ?? start.count }
    /// Checksum and end bytes: what follows the payload.
    var trailerSize: Int { checksumSize + end.count }
    /// The shortest frame: header, an empty payload, the trailer.
    var minimumLength: Int { payloadOffset + trailerSize }
    /// Byte stuffing with one byte as both start and end flag (HDLC): back-to-back frames share it.
    var sharesFlag: Bool { stuffing != nil && start == end }

    /// The frame length a length field's value declares (may be out of any range: the caller checks).
    func declaredLength(fieldValue value: Int, _ field: LengthField) -> Int {
        lengthFieldBase(field) + value + field.adjust
    }

    /// The value a length field holds in a frame of `length` bytes.
    func lengthFieldValue(frameLength length: Int, _ field: LengthField) -> Int {
        length - lengthFieldBase(field) - field.adjust
    }

    private func lengthFieldBase(_ field: LengthField) -> Int {
        switch field.counts {
        case .payload: payloadOffset + trailerSize
        case .afterField: field.end
        case .frame: 0
        }
    }
}

/// One thing wrong with a layout, and the `[framing]` key it is about (`length_field.offset`;
/// nil: the table as a whole).
public struct FramingSpecProblem: Sendable, Equatable, CustomStringConvertible {
    public var key: String?
    public var problem: String
    public var fix: String?

    public init(key: String?, _ problem: String, fix: String? = nil) {
        self.key = key
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        (key.map { "\($0): " } ?? "") + problem + (fix.map { " (fix: \($0))" } ?? "")
    }
}

/// Every problem of a layout that cannot be framed.
public struct FramingSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [FramingSpecProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
