import Foundation
import GatewayCore

/// What the platform does with binary it has no codec for (spec lwm2m-coap §6.2): the bytes
/// go to the cloud as service `RawData`, property `rawData`, Base64-encoded.
public enum RawData {
    public static let serviceId = "RawData"
    public static let propertyName = "rawData"

    public static func report(_ bytes: [UInt8]) -> ServiceReport {
        ServiceReport(serviceId: serviceId, properties: [propertyName: .string(Data(bytes).base64EncodedString())])
    }
}

/// What to do with one business payload from a device (after PCP recognition declined it).
public enum UplinkDisposition: Sendable, Equatable {
    case report(DecodedReport)
    case commandResponse(DecodedCommandResponse)
    /// No codec, or bytes that match no message: forward as RawData.
    case rawData(ServiceReport)
    /// A frame of a known message that is malformed: log it and drop it; never report part of it.
    case rejected(DecodeError)
}

extension ProductCodec {
    /// The platform's uplink rule in one place: decode with the product's codec when there is
    /// one; bytes that fit no message become RawData; malformed frames are rejected whole.
    public static func classify(_ bytes: [UInt8], codec: ProductCodec?) -> UplinkDisposition {
        guard let codec else { return .rawData(RawData.report(bytes)) }
        do {
            switch try codec.decode(bytes) {
            case .report(let report): return .report(report)
            case .commandResponse(let response): return .commandResponse(response)
            }
        } catch {
            return error.matchesNoMessage ? .rawData(RawData.report(bytes)) : .rejected(error)
        }
    }
}
