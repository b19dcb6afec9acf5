/// One SenML record (RFC 8428 §4): base fields that apply to it and the records after it, and
/// its own name, unit, value, sum and times. A pack is an array of records. LwM2M 1.1
/// (OMA-TS-LightweightM2M_Core-V1_1 §7.4.4, §7.4.5) adds the object-link value `vlo`.
public struct SenMLRecord: Equatable, Sendable {
    public var baseName: String?
    public var baseTime: SenMLNumber?
    public var baseUnit: String?
    public var baseValue: SenMLNumber?
    public var baseSum: SenMLNumber?
    public var baseVersion: Int64?
    public var name: String?
    public var unit: String?
    public var value: SenMLValue?
    public var sum: SenMLNumber?
    public var time: SenMLNumber?
    public var updateTime: SenMLNumber?

    public init(baseName: String? = nil, baseTime: SenMLNumber? = nil, baseUnit: String? = nil, baseValue: SenMLNumber? = nil,
                baseSum: SenMLNumber? = nil, baseVersion: Int64? = nil, name: String? = nil, unit: String? = nil,
                value: SenMLValue? = nil, sum: SenMLNumber? = nil, time: SenMLNumber? = nil, updateTime: SenMLNumber? = nil) {
        self.baseName = baseName
        self.baseTime = baseTime
        self.baseUnit = baseUnit
        self.baseValue = baseValue
        self.baseSum = baseSum
        self.baseVersion = baseVersion
        self.name = name
        self.unit = unit
        self.value = value
        self.sum = sum
        self.time = time
        self.updateTime = updateTime
    }
}

/// A SenML number as it was written: an integer stays an integer (LwM2M integers are 64-bit,
/// more than a `Double` holds exactly), anything with a fraction or an exponent is a float.
public enum SenMLNumber: Equatable, Sendable {
    case integer(Int64)
    case float(Double)

    public var double: Double {
        switch self {
        case .integer(let value): Double(value)
        case .float(let value): value
        }
    }
}

/// A record's value: `v`, `vs`, `vb`, `vd` (RFC 8428) or LwM2M's `vlo` ("object:instance").
public enum SenMLValue: Equatable, Sendable {
    case number(SenMLNumber)
    case string(String)
    case boolean(Bool)
    case data([UInt8])
    case objectLink(String)
}

/// The fields by their SenML-JSON names and SenML-CBOR labels (RFC 8428 §4.3, §6 Table 4;
/// `vlo` has no integer label and is the text "vlo" in CBOR as well).
enum SenMLLabel: String, CaseIterable {
    case baseName = "bn", baseTime = "bt", baseUnit = "bu", baseValue = "bv", baseSum = "bs", baseVersion = "bver"
    case name = "n", unit = "u", value = "v", stringValue = "vs", booleanValue = "vb", dataValue = "vd"
    case sum = "s", time = "t", updateTime = "ut", objectLink = "vlo"

    var cborLabel: Int64? {
        switch self {
        case .baseName: -2
        case .baseTime: -3
        case .baseUnit: -4
        case .baseValue: -5
        case .baseSum: -6
        case .baseVersion: -1
        case .name: 0
        case .unit: 1
        case .value: 2
        case .stringValue: 3
        case .booleanValue: 4
        case .sum: 5
        case .time: 6
        case .updateTime: 7
        case .dataValue: 8
        case .objectLink: nil
        }
    }

    init?(cborLabel: Int64) {
        guard let label = Self.allCases.first(where: { $0.cborLabel == cborLabel }) else { return nil }
        self = label
    }
}

/// Why bytes are not a SenML pack; `record` is the index of the record in question.
public enum SenMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not CBOR.
    case cbor(CBORError)
    /// The text is not JSON (or nests deeper than `SenMLJSON.maxDepth`) at this byte.
    case json(offset: Int)
    /// The pack is not an array of records (maps, objects).
    case notAPack
    case notARecord(record: Int)
    /// A field whose value has the wrong type (a number for `n`, text for `v` …).
    case wrongType(record: Int, label: String)
    case duplicateField(record: Int, label: String)
    /// A field this reader does not know whose name ends in "_" (RFC 8428 §4.4: must be understood).
    case mustUnderstand(record: Int, label: String)
    /// More than one of `v`, `vs`, `vb`, `vd`, `vlo`.
    case twoValues(record: Int)
    /// `vd` that is not base64url.
    case notBase64URL(record: Int)
    /// A number JSON cannot carry (infinity, NaN); encoding only.
    case notFinite(record: Int)
    /// A name that is not an LwM2M path (`/0/1/5`), or a value of a type the resource cannot take.
    case notAnLwM2MPath(record: Int, name: String)

    public var description: String {
        switch self {
        case .cbor(let error): "SenML-CBOR: \(error)"
        case .json(let offset): "SenML-JSON: not JSON at byte \(offset)"
        case .notAPack: "SenML: not an array of records"
        case .notARecord(let record): "SenML record \(record) is not a map"
        case .wrongType(let record, let label): "SenML record \(record): \(label) has the wrong type"
        case .duplicateField(let record, let label): "SenML record \(record): \(label) appears twice"
        case .mustUnderstand(let record, let label): "SenML record \(record): unknown field \(label) must be understood"
        case .twoValues(let record): "SenML record \(record) has more than one value"
        case .notBase64URL(let record): "SenML record \(record): vd is not base64url"
        case .notFinite(let record): "SenML record \(record): a number JSON cannot write"
        case .notAnLwM2MPath(let record, let name): "SenML record \(record): \(name) is not an LwM2M resource path"
        }
    }
}
