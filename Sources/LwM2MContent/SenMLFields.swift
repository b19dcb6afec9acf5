// A record as labelled fields, the shape both SenML representations share: the JSON and CBOR
// codecs only turn fields into their syntax and back, and the rules of which field takes which
// type live here once.

/// A field's value before it is a record's (`bytes` is `vd`, base64url text in JSON).
enum SenMLField: Equatable {
    case text(String)
    case number(SenMLNumber)
    case boolean(Bool)
    case bytes([UInt8])
}

extension SenMLRecord {
    /// The fields that are set, in the order they are written: base fields, name, unit, times,
    /// the value, the sum (RFC 8428 §6's example is in this order).
    var fields: [(SenMLLabel, SenMLField)] {
        var out: [(SenMLLabel, SenMLField)] = []
        if let baseName { out.append((.baseName, .text(baseName))) }
        if let baseTime { out.append((.baseTime, .number(baseTime))) }
        if let baseUnit { out.append((.baseUnit, .text(baseUnit))) }
        if let baseValue { out.append((.baseValue, .number(baseValue))) }
        if let baseSum { out.append((.baseSum, .number(baseSum))) }
        if let baseVersion { out.append((.baseVersion, .number(.integer(baseVersion)))) }
        if let name { out.append((.name, .text(name))) }
        if let unit { out.append((.unit, .text(unit))) }
        if let time { out.append((.time, .number(time))) }
        if let updateTime { out.append((.updateTime, .number(updateTime))) }
        switch value {
        case .number(let number): out.append((.value, .number(number)))
        case .string(let text): out.append((.stringValue, .text(text)))
        case .boolean(let flag): out.append((.booleanValue, .boolean(flag)))
        case .data(let bytes): out.append((.dataValue, .bytes(bytes)))
        case .objectLink(let link): out.append((.objectLink, .text(link)))
        case nil: break
        }
        if let sum { out.append((.sum, .number(sum))) }
        return out
    }
}

/// Builds one record from its fields, refusing a field of the wrong type, a field twice and a
/// second value.
struct SenMLRecordBuilder {
    let index: Int
    private(set) var record = SenMLRecord()
    private var seen: Set<String> = []

    init(index: Int) { self.index = index }

    /// A field whose label this reader does not know: ignored (RFC 8428 §4.4), unless its name
    /// ends in "_".
    func unknown(_ label: String) throws(SenMLError) {
        if label.hasSuffix("_") { throw .mustUnderstand(record: index, label: label) }
    }

    mutating func set(_ label: SenMLLabel, _ field: SenMLField) throws(SenMLError) {
        guard seen.insert(label.rawValue).inserted else { throw .duplicateField(record: index, label: label.rawValue) }
        let wrong = SenMLError.wrongType(record: index, label: label.rawValue)
        switch (label, field) {
        case (.baseName, .text(let text)): record.baseName = text
        case (.baseUnit, .text(let text)): record.baseUnit = text
        case (.name, .text(let text)): record.name = text
        case (.unit, .text(let text)): record.unit = text
        case (.baseTime, .number(let number)): record.baseTime = number
        case (.baseValue, .number(let number)): record.baseValue = number
        case (.baseSum, .number(let number)): record.baseSum = number
        case (.sum, .number(let number)): record.sum = number
        case (.time, .number(let number)): record.time = number
        case (.updateTime, .number(let number)): record.updateTime = number
        case (.baseVersion, .number(.integer(let version))): record.baseVersion = version
        case (.value, .number(let number)): try setValue(.number(number))
        case (.stringValue, .text(let text)): try setValue(.string(text))
        case (.booleanValue, .boolean(let flag)): try setValue(.boolean(flag))
        case (.dataValue, .bytes(let bytes)): try setValue(.data(bytes))
        case (.objectLink, .text(let link)): try setValue(.objectLink(link))
        default: throw wrong
        }
    }

    private mutating func setValue(_ value: SenMLValue) throws(SenMLError) {
        guard record.value == nil else { throw .twoValues(record: index) }
        record.value = value
    }
}
