/// OMA LwM2M TLV (content format 11542, OMA-TS-LightweightM2M-V1_0 §6.4.3): what LwM2M 1.0
/// clients and Huawei's modules read and write. Pure: bytes in, values out.
///
/// One entry is a type byte (bits 7–6: what it is; bit 5: 16-bit identifier; bits 4–3: size of
/// the length field, or 00 when bits 2–0 hold the length), the identifier, the length, the value.
/// An object instance holds resources; a multiple resource holds resource instances.
public struct TLV: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        case objectInstance = 0
        case resourceInstance = 1
        case multipleResource = 2
        case resource = 3
    }

    public var kind: Kind
    public var id: UInt16
    /// The value of a `resource` or `resourceInstance` (empty for the others).
    public var value: [UInt8]
    /// The entries of an `objectInstance` or `multipleResource` (empty for the others).
    public var children: [TLV]

    public init(kind: Kind, id: UInt16, value: [UInt8] = [], children: [TLV] = []) {
        self.kind = kind
        self.id = id
        self.value = value
        self.children = children
    }

    public static func resource(_ id: UInt16, _ value: TLVValue) -> TLV { TLV(kind: .resource, id: id, value: value.bytes) }
    public static func resourceInstance(_ id: UInt16, _ value: TLVValue) -> TLV {
        TLV(kind: .resourceInstance, id: id, value: value.bytes)
    }
    public static func multipleResource(_ id: UInt16, _ instances: [TLV]) -> TLV {
        TLV(kind: .multipleResource, id: id, children: instances)
    }
    public static func objectInstance(_ id: UInt16, _ resources: [TLV]) -> TLV {
        TLV(kind: .objectInstance, id: id, children: resources)
    }

    /// A value's length fits in 24 bits (the largest length field).
    public static let maxLength = (1 << 24) - 1

    /// The child with `id`, if any (a resource of an object instance, an instance of a multiple resource).
    public func child(_ id: UInt16) -> TLV? { children.first { $0.id == id } }
}

/// Why bytes are not TLV; `offset` is where the entry in question starts.
public enum TLVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end inside an entry's header or value.
    case truncated(offset: Int)
    /// An entry holds one it may not: an object instance holds resources and multiple
    /// resources; a multiple resource holds resource instances.
    case misplaced(offset: Int, kind: TLV.Kind, inside: TLV.Kind)
    /// A value longer than the 24-bit length field can say (encoding only).
    case valueTooLong(id: UInt16, length: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): "TLV ends inside the entry at byte \(offset)"
        case .misplaced(let offset, let kind, let inside): "TLV entry at byte \(offset): a \(kind) cannot be inside a \(inside)"
        case .valueTooLong(let id, let length): "TLV value of \(id) has \(length) bytes, more than \(TLV.maxLength)"
        }
    }
}

extension TLV {
    /// The bytes of `entries`, one after the other.
    public static func encode(_ entries: [TLV]) throws(TLVError) -> [UInt8] {
        var out: [UInt8] = []
        for entry in entries { try entry.append(to: &out) }
        return out
    }

    func append(to out: inout [UInt8]) throws(TLVError) {
        let body: [UInt8]
        switch kind {
        case .objectInstance, .multipleResource: body = try TLV.encode(children)
        case .resource, .resourceInstance: body = value
        }
        guard body.count <= TLV.maxLength else { throw .valueTooLong(id: id, length: body.count) }
        var type = kind.rawValue << 6
        if id > 0xFF { type |= 0x20 }
        let lengthBytes: Int
        switch body.count {
        case 0...7: lengthBytes = 0; type |= UInt8(body.count)
        case 8...0xFF: lengthBytes = 1
        case 0x100...0xFFFF: lengthBytes = 2
        default: lengthBytes = 3
        }
        type |= UInt8(lengthBytes) << 3
        out.append(type)
        if id > 0xFF { out.append(UInt8(id >> 8)) }
        out.append(UInt8(id & 0xFF))
        for shift in stride(from: (lengthBytes - 1) * 8, through: 0, by: -8) where lengthBytes > 0 {
            out.append(UInt8((body.count >> shift) & 0xFF))
        }
        out.append(contentsOf: body)
    }

    /// The entries in `bytes`. Every length is checked against what is left, and nesting is as
    /// the format allows (at most two levels), so no input can make this read out of bounds or
    /// recurse without end.
    public static func decode(_ bytes: [UInt8]) throws(TLVError) -> [TLV] {
        try decode(bytes[...], inside: nil)
    }

    static func decode(_ bytes: ArraySlice<UInt8>, inside parent: Kind?) throws(TLVError) -> [TLV] {
        var entries: [TLV] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let start = index
            let type = bytes[index]
            index += 1
            // Two bits cannot name anything but the four kinds.
            let kind = Kind(rawValue: type >> 6) ?? .resource
            if let parent, !Self.allowed(kind, inside: parent) {
                throw .misplaced(offset: start, kind: kind, inside: parent)
            }
            let idBytes = type & 0x20 != 0 ? 2 : 1
            let lengthBytes = Int((type >> 3) & 0x03)
            guard bytes.endIndex - index >= idBytes + lengthBytes else { throw .truncated(offset: start) }
            var id = UInt16(bytes[index])
            if idBytes == 2 { id = id << 8 | UInt16(bytes[index + 1]) }
            index += idBytes
            var length = Int(type & 0x07)
            if lengthBytes > 0 {
                length = 0
                for _ in 0..<lengthBytes {
                    length = length << 8 | Int(bytes[index])
                    index += 1
                }
            }
            guard bytes.endIndex - index >= length else { throw .truncated(offset: start) }
            let body = bytes[index..<(index + length)]
            index += length
            switch kind {
            case .objectInstance, .multipleResource:
                entries.append(TLV(kind: kind, id: id, children: try decode(body, inside: kind)))
            case .resource, .resourceInstance:
                entries.append(TLV(kind: kind, id: id, value: Array(body)))
            }
        }
        return entries
    }

    static func allowed(_ kind: Kind, inside parent: Kind) -> Bool {
        switch parent {
        case .objectInstance: kind == .resource || kind == .multipleResource
        case .multipleResource: kind == .resourceInstance
        case .resource, .resourceInstance: false
        }
    }
}
