import LwM2MContent

/// The content format of the Security and Server writes. LwM2M 1.1's Bootstrap-Request names
/// the one the device prefers (`POST /bs?ep=…&pct=112`); a 1.0 client names none and reads TLV,
/// as Huawei's modules do, so TLV is written unless the device asks for SenML.
public enum WriteFormat: Equatable, Sendable, CaseIterable {
    case tlv
    case senmlJSON
    case senmlCBOR

    /// The format for a `pct` query value: SenML-CBOR for 112, SenML-JSON for 110, TLV for
    /// 11542, for none, and for anything this server does not write (the device then reads TLV
    /// as every LwM2M client must, OMA-TS-LightweightM2M_Core-V1_1 §7.4).
    public init(preferredContentFormat pct: Substring?) {
        switch pct.flatMap({ UInt16($0) }) {
        case SenMLCBOR.contentFormat: self = .senmlCBOR
        case SenMLJSON.contentFormat: self = .senmlJSON
        default: self = .tlv
        }
    }

    /// The CoAP Content-Format of the writes.
    public var contentFormat: UInt16 {
        switch self {
        case .tlv: BootstrapRequest.tlv
        case .senmlJSON: SenMLJSON.contentFormat
        case .senmlCBOR: SenMLCBOR.contentFormat
        }
    }

    /// The payload that writes `resources` to /object/instance.
    public func payload(object: UInt16, instance: UInt16, resources: [(id: UInt16, value: TLVValue)]) -> [UInt8] {
        switch self {
        case .tlv:
            // The plan's values always fit TLV's 24-bit lengths (they come from the device list).
            return (try? TLV.encode([.objectInstance(instance, resources.map { .resource($0.id, $0.value) })])) ?? []
        case .senmlJSON:
            // The plan writes no float, so nothing JSON cannot carry.
            return (try? SenMLJSON.encode(LwM2MSenML.records(object: object, instance: instance, resources: resources))) ?? []
        case .senmlCBOR:
            return SenMLCBOR.encode(LwM2MSenML.records(object: object, instance: instance, resources: resources))
        }
    }
}
