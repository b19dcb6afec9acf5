/// The platform's rule for telling PCP upgrade frames from business data on the shared data
/// channel (spec lwm2m-coap §2.9, UG §3.8.3 "PCP 消息识别"). Every failed check means
/// "business data": the payload goes to the product's codec, it is never dropped.
public enum PCPRecognition {
    /// The header every PCP frame starts with: marker, version, code, checksum, data length.
    public static let headerLength = 8
    /// Message codes in use: 19 (0x13) query version … 24 (0x18) report upgrade result.
    public static let validCodes: ClosedRange<UInt8> = 0x13...0x18
    /// The low nibble of the version byte; the high nibble is reserved.
    public static let protocolVersion: UInt8 = 1

    /// Why a payload is (or is not) PCP; one case per step of the documented rule.
    public enum Verdict: Sendable, Equatable {
        case pcp
        /// Step 1: the device's product has no software-upgrade capability.
        case noUpgradeCapability
        /// Step 2: the device's software-upgrade protocol is not PCP.
        case upgradeProtocolNotPCP
        /// Step 3: the first two bytes are not FF FE.
        case noStartMarker
        /// Step 4: the version's low nibble is not 1 (or the frame is shorter than its header).
        case invalidVersion
        /// Step 5: the message code is not 19…24.
        case invalidCode
        /// Step 6: the CRC16 does not match.
        case badChecksum
        /// Step 7: 8 + data length is not the frame length.
        case badLength

        public var isPCP: Bool { self == .pcp }
    }

    /// Runs the eight steps in the documented order. `upgradeCapable` and `upgradeProtocolIsPCP`
    /// come from the device's product model (`omCapability.upgradeCapability`).
    public static func classify(_ payload: [UInt8], upgradeCapable: Bool, upgradeProtocolIsPCP: Bool) -> Verdict {
        guard upgradeCapable else { return .noUpgradeCapability }
        guard upgradeProtocolIsPCP else { return .upgradeProtocolNotPCP }
        guard payload.count >= 2, payload[0] == 0xFF, payload[1] == 0xFE else { return .noStartMarker }
        // A frame too short for its header cannot carry a valid version.
        guard payload.count >= headerLength, payload[2] & 0x0F == protocolVersion else { return .invalidVersion }
        guard validCodes.contains(payload[3]) else { return .invalidCode }
        guard let stored = storedChecksum(payload), computedChecksum(payload) == stored else { return .badChecksum }
        let dataLength = Int(payload[6]) << 8 | Int(payload[7])
        guard headerLength + dataLength == payload.count else { return .badLength }
        return .pcp
    }

    /// True when the payload is a PCP frame for a device that upgrades over PCP.
    public static func isPCPFrame(_ payload: [UInt8], upgradeCapable: Bool = true, upgradeProtocolIsPCP: Bool = true) -> Bool {
        classify(payload, upgradeCapable: upgradeCapable, upgradeProtocolIsPCP: upgradeProtocolIsPCP).isPCP
    }

    /// The checksum field (bytes 4–5, big-endian), or nil for a payload shorter than 6 bytes.
    public static func storedChecksum(_ frame: [UInt8]) -> UInt16? {
        guard frame.count >= 6 else { return nil }
        return UInt16(frame[4]) << 8 | UInt16(frame[5])
    }

    /// The CRC16 of the frame with its checksum field read as 0 (spec §2.7), or nil for a payload
    /// shorter than 6 bytes. The frame is not copied.
    public static func computedChecksum(_ frame: [UInt8]) -> UInt16? {
        guard frame.count >= 6 else { return nil }
        var crc: UInt16 = 0
        for (offset, byte) in frame.enumerated() {
            crc = update(crc, offset == 4 || offset == 5 ? 0 : byte)
        }
        return crc
    }

    /// The platform's CRC16 (spec lwm2m-coap §2.7): the MSB-first table of polynomial 0x1021
    /// with a right-shifting update, init 0, no final XOR. Not a textbook variant: it is
    /// implemented literally, with the table generated (the printed tables have errors).
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes { crc = update(crc, byte) }
        return crc
    }

    private static func update(_ crc: UInt16, _ byte: UInt8) -> UInt16 {
        (crc >> 8) ^ crcTable[Int((crc ^ UInt16(byte)) & 0xFF)]
    }

    static let crcTable: [UInt16] = (0..<256).map { index in
        var value = UInt16(index) << 8
        for _ in 0..<8 { value = value & 0x8000 != 0 ? (value << 1) ^ 0x1021 : value << 1 }
        return value
    }
}

extension PCPRecognition.Verdict {
    /// The step of the documented rule that failed (1–7), nil for `.pcp`.
    public var failedStep: Int? {
        switch self {
        case .pcp: return nil
        case .noUpgradeCapability: return 1
        case .upgradeProtocolNotPCP: return 2
        case .noStartMarker: return 3
        case .invalidVersion: return 4
        case .invalidCode: return 5
        case .badChecksum: return 6
        case .badLength: return 7
        }
    }

    /// What the step checks, in a few words (logs, `edgegw pcp decode`).
    public var check: String {
        switch self {
        case .pcp: return "all checks passed"
        case .noUpgradeCapability: return "software-upgrade capability"
        case .upgradeProtocolNotPCP: return "upgrade protocol"
        case .noStartMarker: return "start marker"
        case .invalidVersion: return "version"
        case .invalidCode: return "message code"
        case .badChecksum: return "checksum"
        case .badLength: return "data length"
        }
    }

    /// Why the step failed, in one sentence.
    public var reason: String {
        switch self {
        case .pcp: return "a PCP frame"
        case .noUpgradeCapability: return "the device's product has no software-upgrade capability"
        case .upgradeProtocolNotPCP: return "the device's software-upgrade protocol is not PCP"
        case .noStartMarker: return "the first two bytes are not FF FE"
        case .invalidVersion: return "the frame is shorter than the 8-byte header or the version's low nibble is not 1"
        case .invalidCode: return "the message code is not 19…24 (0x13…0x18)"
        case .badChecksum: return "the CRC16 does not match the frame"
        case .badLength: return "8 + the data length field is not the frame's length"
        }
    }
}
