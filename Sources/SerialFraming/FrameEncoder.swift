/// Builds the frames sent to a device: start bytes, address, length field, payload, checksum,
/// byte stuffing, end bytes. Header bytes the layout does not name are sent as zero.
public struct FrameEncoder: Sendable {
    public let spec: FramingSpec
    private let stuffingTables: StuffingTables?

    public init(spec: FramingSpec) {
        self.spec = spec
        if let stuffing = spec.stuffing, let start = spec.start.first, let end = spec.end.first {
            stuffingTables = stuffing.tables(start: start, end: end)
        } else {
            stuffingTables = nil
        }
    }

    /// The most payload bytes a frame can carry: within `maxFrameBytes` (before stuffing, which
    /// may add more), the fixed length, and what the length field can count.
    public var payloadCapacity: Int {
        let room = (spec.fixedLength ?? spec.maxFrameBytes) - spec.minimumLength
        guard let field = spec.lengthField, spec.fixedLength == nil else { return room }
        let countable = spec.declaredLength(fieldValue: field.maxValue, field) - spec.minimumLength
        return max(0, min(room, countable))
    }

    /// The frame carrying `payload` to the device at `address` (required when the layout has an
    /// address byte, refused when it has none). With a fixed length, a shorter payload is
    /// padded with zeros: every frame of such a device is one size.
    public func encode(payload: [UInt8], address: UInt8? = nil) throws(FrameEncodingError) -> [UInt8] {
        let capacity = payloadCapacity
        guard payload.count <= capacity else { throw .payloadTooLarge(size: payload.count, limit: capacity) }
        let length = spec.fixedLength ?? spec.minimumLength + payload.count
        var frame = [UInt8](repeating: 0, count: length)
        frame.replaceSubrange(0..<spec.start.count, with: spec.start)
        switch (spec.addressOffset, address) {
        case (let offset?, let address?): frame[offset] = address
        case (nil, nil): break
        case (_?, nil): throw .missingAddress
        case (nil, _?): throw .unexpectedAddress
        }
        frame.replaceSubrange(spec.payloadOffset..<(spec.payloadOffset + payload.count), with: payload)
        if let field = spec.lengthField {
            let value = spec.lengthFieldValue(frameLength: length, field)
            // A positive adjust leaves a short payload no value; a fixed length may exceed the field.
            guard (0...field.maxValue).contains(value) else { throw .lengthOutOfField(value: value, size: field.size) }
            field.order.write(UInt32(value), size: field.size, into: &frame, at: field.offset)
        }
        let trailer = length - spec.trailerSize
        if let checksum = spec.checksum {
            let value = checksum.type.compute(frame[spec.checksumFrom..<trailer])
            checksum.order.write(value, size: checksum.type.size, into: &frame, at: trailer)
        }
        frame.replaceSubrange((length - spec.end.count)..<length, with: spec.end)
        guard let stuffingTables else { return frame }
        var wire: [UInt8] = []
        wire.reserveCapacity(length + length / 8 + 2)
        wire.append(contentsOf: spec.start)
        stuffingTables.stuff(frame[spec.start.count..<(length - spec.end.count)], into: &wire)
        wire.append(contentsOf: spec.end)
        guard wire.count <= spec.maxFrameBytes else { throw .stuffedTooLarge(size: wire.count, limit: spec.maxFrameBytes) }
        return wire
    }
}

/// Why a payload cannot be framed. A struct over a private reason, so reasons can be added.
public struct FrameEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: Equatable {
        case payloadTooLarge(size: Int, limit: Int)
        case stuffedTooLarge(size: Int, limit: Int)
        case lengthOutOfField(value: Int, size: Int)
        case missingAddress
        case unexpectedAddress
    }

    private let reason: Reason

    /// More payload than the frame can carry (`max_frame_bytes`, the fixed length, the length field's size).
    public static func payloadTooLarge(size: Int, limit: Int) -> Self { Self(reason: .payloadTooLarge(size: size, limit: limit)) }
    /// Byte stuffing made the frame longer than `max_frame_bytes`.
    public static func stuffedTooLarge(size: Int, limit: Int) -> Self { Self(reason: .stuffedTooLarge(size: size, limit: limit)) }
    /// The length field cannot hold the value this frame needs.
    public static func lengthOutOfField(value: Int, size: Int) -> Self { Self(reason: .lengthOutOfField(value: value, size: size)) }
    /// The layout has an address byte and no address was given.
    public static let missingAddress = Self(reason: .missingAddress)
    /// An address was given and the layout has no byte for it.
    public static let unexpectedAddress = Self(reason: .unexpectedAddress)

    public var description: String {
        switch reason {
        case .payloadTooLarge(let size, let limit): "a payload of \(size) bytes does not fit the frame (at most \(limit))"
        case .stuffedTooLarge(let size, let limit): "the frame is \(size) bytes once stuffed, more than max_frame_bytes (\(limit))"
        case .lengthOutOfField(let value, let size): "the length field (\(size) bytes) cannot hold \(value)"
        case .missingAddress: "the layout has an address byte (address_offset) and no address was given"
        case .unexpectedAddress: "an address was given and the layout has no address byte (address_offset)"
        }
    }
}
