import GatewayCore

/// What the gateway's codec makes of one uplink payload (PCP frames never get here).
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

/// Tells PCP upgrade frames from business data (spec §2.9) and takes them. The upgrade engine
/// implements it later; `PCPFrameShape` is the stand-in that only recognises and counts.
public protocol PCPUplinkHandler: Sendable {
    func isPCP(_ payload: [UInt8], device: NBIoTDevice) -> Bool
    func handlePCP(_ payload: [UInt8], nodeId: String) async
}

/// Recognition steps 1, 3, 4, 5 and 7 of spec §2.9 (upgrade capability, 0xFFFE, version, code,
/// length). Step 6 (the CRC) belongs to the PCP codec; until it is wired in, frames that pass
/// these checks are logged and counted, not answered.
public struct PCPFrameShape: PCPUplinkHandler {
    /// PCP header: marker(2) version(1) code(1) crc(2) length(2).
    public static let headerBytes = 8
    public static let codes: ClosedRange<UInt8> = 0x13...0x18

    public init() {}

    public func isPCP(_ payload: [UInt8], device: NBIoTDevice) -> Bool {
        guard device.pcpUpgradeCapable, payload.count >= Self.headerBytes,
              payload[0] == 0xFF, payload[1] == 0xFE, payload[2] & 0x0F == 1, Self.codes.contains(payload[3]) else { return false }
        let length = Int(payload[6]) << 8 | Int(payload[7])
        return Self.headerBytes + length == payload.count
    }

    public func handlePCP(_ payload: [UInt8], nodeId: String) async {}
}
