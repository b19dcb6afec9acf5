import GatewayCore

/// One field of a codec message, in wire order.
public struct CodecField: Sendable, Equatable {
    /// What the field carries; decided from its name and the message it is in.
    public enum Role: Sendable, Equatable {
        /// `messageId`: tells the messages of one direction apart.
        case messageId
        /// `mid`: ties a command response to its command.
        case mid
        /// `errcode` in a command response: 0 means SUCCESSFUL, anything else FAILED.
        case errcode
        /// The byte count of the named varstring/variant field, filled in on encode.
        case length(of: String)
        /// Framing the JSON side never sees: written from `default` (or zeros), skipped on decode.
        case constant
        /// A property of a service (report), a command parameter (command) or a command
        /// response field (command response).
        case value(service: String, name: String, property: ProductModel.Property)
    }

    public var name: String
    public var type: CodecFieldType
    /// Fixed byte count of string/array; the maximum of varstring/variant (nil: only the frame bounds it).
    public var length: Int?
    /// For varstring/variant: the earlier field that holds the byte count.
    public var lengthField: String?
    /// The bytes `default` declares (hex in the file), sized to the field.
    public var defaultBytes: [UInt8]?
    /// Integer fields mapped to decimal: the JSON value is the wire value / 10^decimals.
    public var decimals: Int
    public var role: Role
    /// Line in the product file, for messages.
    public var line: Int?

    public init(name: String, type: CodecFieldType, length: Int? = nil, lengthField: String? = nil,
                defaultBytes: [UInt8]? = nil, decimals: Int = 0, role: Role, line: Int? = nil) {
        self.name = name
        self.type = type
        self.length = length
        self.lengthField = lengthField
        self.defaultBytes = defaultBytes
        self.decimals = decimals
        self.role = role
        self.line = line
    }

    /// Bytes on the wire when they do not depend on the data.
    public var fixedSize: Int? {
        if let size = type.scalarSize { return size }
        if type == .string || type == .array { return length }
        return nil
    }
}

/// One binary message of a product's codec.
public struct CodecMessage: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Uplink: property values.
        case report
        /// Uplink: the device's result for a command; carries `mid`.
        case commandResponse = "command_response"
        /// Downlink: a command; carries `mid` when the command has a response.
        case command
        /// Downlink: what the device gets back after a report.
        case reportResponse = "report_response"

        public var direction: Direction {
            switch self {
            case .report, .commandResponse: .uplink
            case .command, .reportResponse: .downlink
            }
        }
    }

    public enum Direction: String, Sendable { case uplink, downlink }

    public var name: String
    public var kind: Kind
    /// Value of the `messageId` field; nil when the direction has one message without it.
    public var messageId: Int64?
    /// Command and command response: the service and command of the product model.
    public var serviceId: String?
    public var command: String?
    /// Report response: the report messages it answers (empty: every report).
    public var respondsTo: [String]
    public var fields: [CodecField]
    public var line: Int?

    public init(name: String, kind: Kind, messageId: Int64?, serviceId: String? = nil, command: String? = nil,
                respondsTo: [String] = [], fields: [CodecField], line: Int? = nil) {
        self.name = name
        self.kind = kind
        self.messageId = messageId
        self.serviceId = serviceId
        self.command = command
        self.respondsTo = respondsTo
        self.fields = fields
        self.line = line
    }

    public func field(_ name: String) -> CodecField? { fields.first { $0.name == name } }

    /// Index of the first field with this role.
    func index(of role: CodecField.Role) -> Int? { fields.firstIndex { $0.role == role } }

    /// Byte offset of field `index` when every field before it has a fixed size.
    func fixedOffset(ofField index: Int) -> Int? {
        var offset = 0
        for field in fields[..<index] {
            guard let size = field.fixedSize else { return nil }
            offset += size
        }
        return offset
    }

    /// Largest encoding this message can have.
    var maximumSize: Int? {
        var total = 0
        for field in fields {
            if let size = field.fixedSize { total += size; continue }
            guard let length = field.length else { return nil }
            total += length
        }
        return total
    }
}

/// Where `messageId` sits in every message of one direction.
struct MessageIdLocation: Sendable, Equatable {
    var offset: Int
    var type: CodecFieldType
}
