/// The contract between a field module that carries binary payloads (the LwM2M server's
/// NB-IoT reports, the serial lines' frames) and the product codecs the gateway wires in.
///
/// What the gateway's codec makes of one uplink payload (PCP frames never get here: they go to
/// the upgrade side, GatewayCore's `UpgradeUplinkHandler`).
public enum UplinkDecoding: Sendable, Equatable {
    /// Properties to report; `response` is the product's data-report response, sent back to the device.
    case report([ServiceReport], response: [UInt8]?)
    /// The device's result for the command with this `mid`.
    case commandResponse(mid: UInt16, success: Bool, paras: JSONObject)
    case undecodable(String)
}

/// Decodes uplink payloads with the product's codec (implemented by the gateway with DeviceCodec).
/// With no codec for the product it should report service `RawData`, field `rawData` (spec §6.2).
public protocol UplinkPayloadHandler: Sendable {
    func decodeUplink(nodeId: String, productId: String, payload: [UInt8]) -> UplinkDecoding
}

/// Encodes a command for a device with the product's codec, carrying `mid` for correlation.
public protocol DownlinkEncoder: Sendable {
    func encodeCommand(_ command: ChildCommand, productId: String, mid: UInt16) throws -> [UInt8]
    /// False when the product declares no response to this command: its ACK ends it.
    func expectsResponse(_ command: ChildCommand, productId: String) -> Bool
}

extension DownlinkEncoder {
    public func expectsResponse(_ command: ChildCommand, productId: String) -> Bool { true }
}
