/// SenML-JSON (RFC 8428 §5; CoAP content format 110, application/senml+json): a pack is a JSON
/// array of objects keyed by the field names (bn, bt, n, u, v, vs, vb, vd …), `vd` as base64url
/// without padding, LwM2M's `vlo` as "object:instance".
public enum SenMLJSON {
    public static let contentFormat: UInt16 = 110

    /// The pack as compact JSON text (UTF-8). A float JSON cannot write (infinity, NaN) is refused.
    public static func encode(_ records: [SenMLRecord]) throws(SenMLError) -> [UInt8] {
        var out = "["
        for (index, record) in records.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            for (position, (label, field)) in record.fields.enumerated() {
                if position > 0 { out += "," }
                JSONWriter.string(label.rawValue, into: &out)
                out += ":"
                switch field {
                case .text(let text): JSONWriter.string(text, into: &out)
                case .bytes(let bytes): JSONWriter.string(Base64URL.encode(bytes), into: &out)
                case .boolean(let flag): out += flag ? "true" : "false"
                case .number(let number):
                    guard let text = JSONWriter.number(number) else { throw .notFinite(record: index) }
                    out += text
                }
            }
            out += "}"
        }
        out += "]"
        return Array(out.utf8)
    }

    /// The records of a pack; anything else is refused with its cause.
    public static func decode(_ bytes: [UInt8]) throws(SenMLError) -> [SenMLRecord] {
        guard case .array(let items) = try JSONReader.parse(bytes) else { throw .notAPack }
        var records: [SenMLRecord] = []
        records.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .object(let members) = item else { throw .notARecord(record: index) }
            var builder = SenMLRecordBuilder(index: index)
            for (key, member) in members {
                guard let label = SenMLLabel(rawValue: key) else {
                    try builder.unknown(key)
                    continue
                }
                try builder.set(label, try field(member, label: label, record: index))
            }
            records.append(builder.record)
        }
        return records
    }

    static func field(_ value: JSONValue, label: SenMLLabel, record: Int) throws(SenMLError) -> SenMLField {
        switch value {
        case .string(let text) where label == .dataValue:
            guard let bytes = Base64URL.decode(text) else { throw .notBase64URL(record: record) }
            return .bytes(bytes)
        case .string(let text): return .text(text)
        case .number(let number): return .number(number)
        case .boolean(let flag): return .boolean(flag)
        case .null, .array, .object: throw .wrongType(record: record, label: label.rawValue)
        }
    }
}
