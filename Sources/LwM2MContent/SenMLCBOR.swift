/// SenML-CBOR (RFC 8428 §6; CoAP content format 112, application/senml+cbor): a pack is a CBOR
/// array of maps keyed by the integer labels (bn -2, bt -3, n 0, u 1, v 2, vs 3, vb 4, s 5,
/// t 6, ut 7, vd 8 …), `vd` a byte string, LwM2M's `vlo` under the text key "vlo".
public enum SenMLCBOR {
    public static let contentFormat: UInt16 = 112

    /// The pack's bytes. Integers are written as CBOR integers, floats in the shortest precision
    /// that holds them exactly (RFC 8428 §6 prints 1.5 as a half float).
    public static func encode(_ records: [SenMLRecord]) -> [UInt8] {
        CBOR.array(records.map(item)).encoded
    }

    static func item(_ record: SenMLRecord) -> CBOR {
        .map(record.fields.map { label, field in
            let key: CBOR = label.cborLabel.map { .integer($0) } ?? .text(label.rawValue)
            return CBOR.Entry(key, value(field))
        })
    }

    static func value(_ field: SenMLField) -> CBOR {
        switch field {
        case .text(let text): .text(text)
        case .number(.integer(let value)): .integer(value)
        case .number(.float(let value)): .float(value)
        case .boolean(let flag): .boolean(flag)
        case .bytes(let bytes): .bytes(bytes)
        }
    }

    /// The records of a pack; anything else is refused with its cause.
    public static func decode(_ bytes: [UInt8]) throws(SenMLError) -> [SenMLRecord] {
        let item: CBOR
        do { item = try CBOR.decode(bytes) } catch { throw .cbor(error) }
        guard case .array(let items) = item else { throw .notAPack }
        var records: [SenMLRecord] = []
        records.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .map(let entries) = item else { throw .notARecord(record: index) }
            var builder = SenMLRecordBuilder(index: index)
            for entry in entries {
                let label: SenMLLabel
                switch entry.key {
                case .integer(let number):
                    guard let known = SenMLLabel(cborLabel: number) else {
                        // Unknown integer labels carry no "_"; RFC 8428 §4.4 says ignore them.
                        continue
                    }
                    label = known
                case .text(let text):
                    guard text == SenMLLabel.objectLink.rawValue else {
                        try builder.unknown(text)
                        continue
                    }
                    label = .objectLink
                default:
                    throw .wrongType(record: index, label: "key")
                }
                try builder.set(label, try field(entry.value, label: label, record: index))
            }
            records.append(builder.record)
        }
        return records
    }

    static func field(_ value: CBOR, label: SenMLLabel, record: Int) throws(SenMLError) -> SenMLField {
        switch value {
        case .text(let text): return .text(text)
        case .integer(let number): return .number(.integer(number))
        case .float(let number): return .number(.float(number))
        case .boolean(let flag): return .boolean(flag)
        case .bytes(let bytes): return .bytes(bytes)
        case .array, .map, .null: throw .wrongType(record: record, label: label.rawValue)
        }
    }
}
