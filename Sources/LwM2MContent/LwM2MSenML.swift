/// A resource (or resource instance) value at its full path, as LwM2M 1.1 carries it in SenML.
public struct SenMLResource: Equatable, Sendable {
    /// Object, instance, resource and, for a multiple resource, the resource instance.
    public var path: [UInt16]
    public var value: TLVValue

    public init(path: [UInt16], value: TLVValue) {
        self.path = path
        self.value = value
    }
}

/// How LwM2M 1.1 writes resources as SenML records (OMA-TS-LightweightM2M_Core-V1_1 §7.4.4
/// SenML-JSON, §7.4.5 SenML-CBOR): the first record's `bn` is the object instance ("/0/1/"),
/// each record's `n` a resource id ("5") or "resource/instance"; the resolved name (bn + n,
/// RFC 8428 §4.6) is the path. Values: integers and floats as `v`, strings `vs`, booleans `vb`,
/// opaque `vd`, object links `vlo` ("object:instance"). The types are LwM2M's, so `TLVValue`.
public enum LwM2MSenML {
    /// The records that write `resources` of object instance /object/instance.
    public static func records(object: UInt16, instance: UInt16, resources: [(id: UInt16, value: TLVValue)]) -> [SenMLRecord] {
        resources.enumerated().map { position, resource in
            SenMLRecord(baseName: position == 0 ? "/\(object)/\(instance)/" : nil, name: "\(resource.id)",
                        value: senMLValue(resource.value))
        }
    }

    static func senMLValue(_ value: TLVValue) -> SenMLValue {
        switch value {
        case .integer(let number): .number(.integer(number))
        case .float(let number): .number(.float(number))
        case .boolean(let flag): .boolean(flag)
        case .string(let text): .string(text)
        case .opaque(let bytes): .data(bytes)
        case .objectLink(let object, let instance): .objectLink("\(object):\(instance)")
        }
    }

    /// The resources `records` write, each at its resolved path; a record without a value (one
    /// that only sets a base name) writes nothing. Only a resource or a resource instance carries a
    /// value (§7.4.4), so a name that does not resolve to three or four ids ("/1" or "/1/0" with a
    /// value), or an object link that is not "object:instance", is refused.
    public static func resources(_ records: [SenMLRecord]) throws(SenMLError) -> [SenMLResource] {
        var baseName = ""
        var resources: [SenMLResource] = []
        for (index, record) in records.enumerated() {
            if let name = record.baseName { baseName = name }
            guard let value = record.value else { continue }
            let name = baseName + (record.name ?? "")
            guard let path = path(name), resourcePathLengths.contains(path.count) else {
                throw .notAnLwM2MPath(record: index, name: name)
            }
            guard let resourceValue = tlvValue(value) else { throw .wrongType(record: index, label: SenMLLabel.objectLink.rawValue) }
            resources.append(SenMLResource(path: path, value: resourceValue))
        }
        return resources
    }

    /// A resource (/3/0/7) or a resource instance (/3/0/7/1): the paths a value is written at.
    public static let resourcePathLengths = 3...4

    /// "/3/0/7/1" as its ids; nil for anything else.
    static func path(_ name: String) -> [UInt16]? {
        guard name.hasPrefix("/") else { return nil }
        let parts = name.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var ids: [UInt16] = []
        for part in parts {
            // UInt16("+5") would read a sign; ids are digits only.
            guard !part.isEmpty, part.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let id = UInt16(part) else { return nil }
            ids.append(id)
        }
        return ids
    }

    static func tlvValue(_ value: SenMLValue) -> TLVValue? {
        switch value {
        case .number(.integer(let number)): return .integer(number)
        case .number(.float(let number)): return .float(number)
        case .boolean(let flag): return .boolean(flag)
        case .string(let text): return .string(text)
        case .data(let bytes): return .opaque(bytes)
        case .objectLink(let link):
            let parts = link.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let object = path("/" + parts[0])?.first, let instance = path("/" + parts[1])?.first else { return nil }
            return .objectLink(object: object, instance: instance)
        }
    }
}
