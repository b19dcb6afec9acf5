/// Why bytes from a device could not be decoded. `offset` is the byte where the problem is,
/// so a technician can find it in the hex dump.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Fewer bytes than the message needs.
        case truncated(needed: Int, available: Int)
        /// Bytes left over after the last field.
        case trailingBytes(count: Int)
        /// Longer than `ProductCodec.maximumFrameBytes`.
        case frameTooLong(length: Int)
        case emptyFrame
        /// The `messageId` value names no message of this direction.
        case unknownMessageId(Int64)
        /// A varstring/variant length above the field's declared maximum.
        case lengthTooLarge(field: String, length: Int64, maximum: Int)
        /// A string or varstring byte above 0x7F (strings are ASCII).
        case notASCII(field: String, byte: UInt8)
        /// A float/double that JSON cannot carry (NaN or infinity).
        case notFinite(field: String)
        /// A string field mapped to a decimal property that does not hold a number.
        case notANumber(field: String, text: String)
        /// The codec declares no message for this direction.
        case noMessages
    }

    public var kind: Kind
    public var offset: Int

    public init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// True when the bytes fit no declared message: the platform forwards them as RawData.
    public var matchesNoMessage: Bool {
        switch kind {
        case .unknownMessageId, .noMessages: true
        default: false
        }
    }

    public var description: String {
        let what: String
        switch kind {
        case .truncated(let needed, let available):
            what = "frame is truncated: the next field needs \(needed) byte(s), \(available) left"
        case .trailingBytes(let count): what = "\(count) byte(s) left over after the last field"
        case .frameTooLong(let length):
            what = "frame of \(length) bytes is longer than the \(ProductCodec.maximumFrameBytes)-byte limit"
        case .emptyFrame: what = "frame is empty"
        case .unknownMessageId(let id): what = "messageId \(id) (0x\(String(id, radix: 16, uppercase: true))) matches no message"
        case .lengthTooLarge(let field, let length, let maximum):
            what = "\(field): length \(length) is above its maximum \(maximum)"
        case .notASCII(let field, let byte):
            what = "\(field): byte 0x\(String(byte, radix: 16, uppercase: true)) is not ASCII"
        case .notFinite(let field): what = "\(field): value is NaN or infinite"
        case .notANumber(let field, let text): what = "\(field): \"\(text)\" is not a number"
        case .noMessages: what = "the codec declares no message for this direction"
        }
        return "at byte \(offset): \(what)"
    }
}

/// Why a command (or another message) could not be encoded. `path` is the JSON path of the
/// offending value (`paras.interval`), or the command when no value is to blame.
public struct EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unknownCommand
        /// The command name exists in several services and none was given.
        case ambiguousCommand(services: [String])
        case unknownMessage
        case unknownParameter
        case missingParameter
        /// JSON type not what the field needs.
        case wrongType(expected: String, found: String)
        /// Outside the field's wire range or the product model's min/max/enum/max_length.
        case outOfRange(String)
        case invalidBase64
        case notASCII
        /// Too long for a fixed string/array, or above a varstring/variant maximum.
        case tooLong(length: Int, maximum: Int)
        /// The encoded frame would exceed `ProductCodec.maximumFrameBytes`.
        case frameTooLong(length: Int)
        /// A `mid` the field cannot hold, or a message that needs one without it.
        case invalidMid
    }

    public var kind: Kind
    public var path: String

    public init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String {
        let what: String
        switch kind {
        case .unknownCommand: what = "no codec message encodes this command"
        case .ambiguousCommand(let services):
            what = "the command exists in services \(services.joined(separator: ", ")); name the service"
        case .unknownMessage: what = "no such message in the codec"
        case .unknownParameter: what = "the command has no such parameter"
        case .missingParameter: what = "required value is missing and the field has no default"
        case .wrongType(let expected, let found): what = "expected \(expected), found \(found)"
        case .outOfRange(let reason): what = reason
        case .invalidBase64: what = "not valid Base64 (arrays and variants are Base64 in JSON: A-Z a-z 0-9 + /, with no padding or the exact = padding)"
        case .notASCII: what = "not ASCII (strings are ASCII on the wire)"
        case .tooLong(let length, let maximum): what = "\(length) bytes is longer than the field's \(maximum)"
        case .frameTooLong(let length):
            what = "encoded frame of \(length) bytes is longer than the \(ProductCodec.maximumFrameBytes)-byte limit"
        case .invalidMid: what = "mid does not fit the field"
        }
        return "\(path): \(what)"
    }
}
