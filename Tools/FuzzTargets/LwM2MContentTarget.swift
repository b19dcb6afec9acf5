import LwM2MContent

/// `lwm2m-content`: LwM2M payloads through every content-format decoder (TLV, CBOR,
/// SenML-CBOR, SenML-JSON) and the mapping of SenML records to resources.
///
/// Round trips: TLV entries and CBOR items encode to bytes that decode the same; a SenML pack
/// writes back (CBOR and JSON) to bytes that read as the same pack, compared as bytes since a
/// NaN is never equal to itself; each resource value a pack writes survives TLV (the format a
/// 1.0 module reads), and `LwM2MSenML.records` of resources maps back to those resources.
enum LwM2MContentTarget {
    static let target = FuzzTarget(
        name: "lwm2m-content", maxInputBytes: 4096,
        summary: "TLV, CBOR, SenML-CBOR, SenML-JSON decoders and LwM2MSenML.resources; encode(decode(x)) decodes the same",
        run: run)

    static func run(_ bytes: [UInt8]) {
        tlv(bytes)
        cbor(bytes)
        if let records = try? SenMLCBOR.decode(bytes) {
            let written = SenMLCBOR.encode(records)
            guard let again = try? SenMLCBOR.decode(written), SenMLCBOR.encode(again) == written else {
                FuzzCheck.fail("SenML-CBOR \(hexText(bytes)) writes as \(hexText(written)), which reads differently")
            }
            if let json = try? SenMLJSON.encode(records) {
                guard let fromJSON = try? SenMLJSON.decode(json), SenMLCBOR.encode(fromJSON) == written else {
                    FuzzCheck.fail("SenML-CBOR \(hexText(bytes)) as JSON \(String(decoding: json, as: UTF8.self)) reads differently")
                }
            }
            resources(records)
        }
        if let records = try? SenMLJSON.decode(bytes) {
            guard let json = try? SenMLJSON.encode(records), let again = try? SenMLJSON.decode(json),
                  (try? SenMLJSON.encode(again)) == json else {
                FuzzCheck.fail("SenML-JSON \(String(decoding: bytes, as: UTF8.self)) does not write back to what it reads")
            }
            resources(records)
        }
    }

    static func tlv(_ bytes: [UInt8]) {
        let entries: [TLV]
        do {
            entries = try TLV.decode(bytes)
        } catch {
            _ = error.description
            return
        }
        for entry in entries {
            _ = (entry.integer, entry.float, entry.boolean, entry.string)
            for child in entry.children { _ = (child.integer, child.float, child.boolean, child.string, child.children.count) }
        }
        guard let encoded = try? TLV.encode(entries), (try? TLV.decode(encoded)) == entries else {
            FuzzCheck.fail("TLV \(hexText(bytes)) does not encode back to the same entries")
        }
    }

    static func cbor(_ bytes: [UInt8]) {
        guard let item = try? CBOR.decode(bytes) else { return }
        let encoded = item.encoded
        guard let again = try? CBOR.decode(encoded), again.encoded == encoded else {
            FuzzCheck.fail("CBOR \(hexText(bytes)) encodes as \(hexText(encoded)), which decodes differently")
        }
    }

    /// The resources a pack writes: each value through TLV, and the pack rebuilt from them.
    static func resources(_ records: [SenMLRecord]) {
        guard let resources = try? LwM2MSenML.resources(records) else { return }
        for resource in resources {
            let id = resource.path.last ?? 0
            guard let bytes = try? TLV.encode([.resource(id, resource.value)]), let entries = try? TLV.decode(bytes),
                  let entry = entries.first, entries.count == 1 else {
                FuzzCheck.fail("resource \(resource) does not survive TLV")
            }
            let same: Bool
            switch resource.value {
            case .integer(let value): same = entry.integer == value
            case .float(let value): same = entry.float.map { $0 == value || ($0.isNaN && value.isNaN) } ?? false
            case .boolean(let value): same = entry.boolean == value
            case .string(let value): same = entry.string == value
            case .opaque(let value): same = entry.value == value
            case .objectLink: same = entry.value == resource.value.bytes
            }
            FuzzCheck.require(same, "resource \(resource) reads back from TLV as \(hexText(entry.value))")
        }
        // One object instance's resources, written as a bootstrap write would, read back.
        FuzzCheck.require(resources.allSatisfy { LwM2MSenML.resourcePathLengths.contains($0.path.count) },
                          "a value outside a resource or resource instance: \(resources)")
        guard let first = resources.first(where: { $0.path.count == 3 }) else { return }
        let instance = resources.filter { $0.path.count == 3 && $0.path[0] == first.path[0] && $0.path[1] == first.path[1] }
        let rebuilt = LwM2MSenML.records(object: first.path[0], instance: first.path[1],
                                         resources: instance.map { (id: $0.path[2], value: $0.value) })
        guard let back = try? LwM2MSenML.resources(rebuilt) else { FuzzCheck.fail("records of \(instance) do not map back") }
        FuzzCheck.require(back.count == instance.count && zip(back, instance).allSatisfy { $0.path == $1.path && sameValue($0.value, $1.value) },
                          "resources \(instance) written as \(rebuilt) read back as \(back)")
    }

    static func sameValue(_ a: TLVValue, _ b: TLVValue) -> Bool {
        if case .float(let x) = a, case .float(let y) = b { return x == y || (x.isNaN && y.isNaN) }
        return a == b
    }
}
