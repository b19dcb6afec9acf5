import Foundation
import GatewayCore

/// A product's declarative codec: the binary messages its devices send and receive, and how
/// their fields map onto the product model. Pure: bytes in, JSON values out, and back.
///
/// Built by `ProductCodec.parse(reader:product:)` from the `[codec]` table of a product file;
/// only a validated codec exists, so encode and decode can rely on its invariants.
public struct ProductCodec: Sendable, Equatable {
    /// edgegw's bound on one codec frame in either direction. The documents give none; NB-IoT
    /// payloads are far smaller, and a bound keeps a hostile length field from costing memory.
    public static let maximumFrameBytes = 1024

    public let productId: String
    public let uplink: [CodecMessage]
    public let downlink: [CodecMessage]
    let uplinkIdLocation: MessageIdLocation?
    let downlinkIdLocation: MessageIdLocation?

    init(productId: String, uplink: [CodecMessage], downlink: [CodecMessage]) {
        self.productId = productId
        self.uplink = uplink
        self.downlink = downlink
        uplinkIdLocation = Self.idLocation(uplink)
        downlinkIdLocation = Self.idLocation(downlink)
    }

    static func idLocation(_ messages: [CodecMessage]) -> MessageIdLocation? {
        guard let first = messages.first, let index = first.index(of: .messageId),
              let offset = first.fixedOffset(ofField: index) else { return nil }
        return MessageIdLocation(offset: offset, type: first.fields[index].type)
    }

    // MARK: - Gateway side

    /// Decodes bytes from a device: a report or a command response, whole or not at all.
    public func decode(_ bytes: [UInt8]) throws(DecodeError) -> DecodedUplink {
        let message = try select(bytes, from: uplink, location: uplinkIdLocation)
        let decoded = try decodeFields(of: message, bytes)
        switch message.kind {
        case .commandResponse:
            return .commandResponse(DecodedCommandResponse(
                message: message.name, serviceId: message.serviceId ?? "", command: message.command ?? "",
                mid: UInt16(truncatingIfNeeded: decoded.mid ?? 0), errcode: decoded.errcode, paras: decoded.paras))
        default:
            return .report(DecodedReport(message: message.name, services: decoded.services))
        }
    }

    /// Encodes a command for a device. `paras` are the cloud's command parameters; `mid` is
    /// written into the `mid` field (when the message has one) so the response can be matched.
    public func encode(command: String, serviceId: String? = nil, paras: JSONObject, mid: UInt16) throws(EncodeError) -> [UInt8] {
        let message = try commandMessage(command: command, serviceId: serviceId, kind: .command)
        try rejectUnknown(paras, of: message)
        return try encodeFields(of: message, mid: mid, errcode: nil, path: "paras") { field in
            if case .value(_, let name, _) = field.role { return paras[name] }
            return nil
        }
    }

    /// True when the command's codec message has a response message (wait for it after the
    /// device's ACK); false when the ACK is all the device will say.
    public func expectsResponse(command: String, serviceId: String? = nil) -> Bool {
        (try? commandMessage(command: command, serviceId: serviceId, kind: .commandResponse)) != nil
    }

    /// The bytes to send back after a report, when the codec declares a report response for it.
    public func encodeReportResponse(to report: DecodedReport) -> [UInt8]? {
        let candidates = downlink.filter { $0.kind == .reportResponse }
        guard let message = candidates.first(where: { $0.respondsTo.contains(report.message) })
            ?? candidates.first(where: { $0.respondsTo.isEmpty }) else { return nil }
        // A report response holds only messageId and constants: it cannot fail once validated.
        return try? encodeFields(of: message, mid: nil, errcode: nil, path: message.name) { _ in nil }
    }

    // MARK: - Device side (device simulators, tests, the technician's CLI)

    /// Decodes what the gateway sends a device.
    public func decodeDownlink(_ bytes: [UInt8]) throws(DecodeError) -> DecodedDownlink {
        let message = try select(bytes, from: downlink, location: downlinkIdLocation)
        let decoded = try decodeFields(of: message, bytes)
        if message.kind == .reportResponse { return .reportResponse(message: message.name) }
        return .command(DecodedCommand(message: message.name, serviceId: message.serviceId ?? "",
                                       command: message.command ?? "",
                                       mid: decoded.mid.map { UInt16(truncatingIfNeeded: $0) }, paras: decoded.paras))
    }

    /// Encodes a report the way a device would: values are looked up by service and property.
    public func encodeReport(message name: String, services: [ServiceReport]) throws(EncodeError) -> [UInt8] {
        guard let message = uplink.first(where: { $0.name == name && $0.kind == .report }) else {
            throw EncodeError(.unknownMessage, path: name)
        }
        return try encodeFields(of: message, mid: nil, errcode: nil, path: "services") { field in
            guard case .value(let service, let property, _) = field.role else { return nil }
            return services.first { $0.serviceId == service && $0.properties[property] != nil }?.properties[property]
        }
    }

    /// Encodes a command response the way a device would.
    public func encodeCommandResponse(command: String, serviceId: String? = nil, mid: UInt16, errcode: Int64 = 0,
                                      paras: JSONObject) throws(EncodeError) -> [UInt8] {
        let message = try commandMessage(command: command, serviceId: serviceId, kind: .commandResponse)
        try rejectUnknown(paras, of: message)
        return try encodeFields(of: message, mid: mid, errcode: errcode, path: "paras") { field in
            if case .value(_, let name, _) = field.role { return paras[name] }
            return nil
        }
    }

    // MARK: - Message selection

    func select(_ bytes: [UInt8], from messages: [CodecMessage], location: MessageIdLocation?) throws(DecodeError) -> CodecMessage {
        guard bytes.count <= Self.maximumFrameBytes else {
            throw DecodeError(.frameTooLong(length: bytes.count), offset: Self.maximumFrameBytes)
        }
        guard !bytes.isEmpty else { throw DecodeError(.emptyFrame, offset: 0) }
        guard let first = messages.first else { throw DecodeError(.noMessages, offset: 0) }
        guard let location, let size = location.type.scalarSize else { return first }
        var cursor = ByteCursor(bytes)
        _ = try cursor.take(location.offset)
        let raw = BigEndian.unsigned(try cursor.take(size))
        let id = location.type.integer(fromBigEndian: raw)
        guard let message = messages.first(where: { $0.messageId == id }) else {
            throw DecodeError(.unknownMessageId(id), offset: location.offset)
        }
        return message
    }

    func commandMessage(command: String, serviceId: String?, kind: CodecMessage.Kind) throws(EncodeError) -> CodecMessage {
        let pool = kind.direction == .uplink ? uplink : downlink
        let matches = pool.filter { $0.kind == kind && $0.command == command && (serviceId == nil || $0.serviceId == serviceId) }
        guard let message = matches.first else { throw EncodeError(.unknownCommand, path: command) }
        if matches.count > 1 {
            throw EncodeError(.ambiguousCommand(services: matches.compactMap(\.serviceId)), path: command)
        }
        return message
    }

    func rejectUnknown(_ paras: JSONObject, of message: CodecMessage) throws(EncodeError) {
        let known = Set(message.fields.compactMap { field -> String? in
            if case .value(_, let name, _) = field.role { return name }
            return nil
        })
        if let unknown = paras.keys.first(where: { !known.contains($0) }) {
            throw EncodeError(.unknownParameter, path: "paras.\(unknown)")
        }
    }
}
