import Foundation
import GatewayCore

/// Where a device's radio is read from: LwM2M object 4 (Connectivity Monitoring) when its object
/// list announces it, and the properties its product's codec reports.
///
/// Object 4 resources read (OMA object 4; resource 11 since its version 1.1/1.2 of LwM2M 1.1):
/// - 2 Radio Signal Strength, Integer dBm: for LTE / NB-IoT it is the RSRP;
/// - 8 Cell ID, Integer;
/// - 11 SignalSNR, Float dB: the SINR. Older object 4 versions (LwM2M 1.0, most modules) lack
///   it: the device answers 4.04 and the SINR stays unknown.
public enum RadioResources {
    public static let rsrpPath = "/4/0/2"
    public static let cellIdPath = "/4/0/8"
    public static let sinrPath = "/4/0/11"
    public static let paths = [rsrpPath, cellIdPath, sinrPath]

    /// Whether the Register's object list names object 4 (`</4>` or `</4/0>`).
    public static func announced(in objectLinks: [String]) -> Bool {
        objectLinks.contains { link in
            let path = link.split(separator: ";", maxSplits: 1).first.map(String.init) ?? link
            return path == "/4" || path == "/4/0"
        }
    }

    /// Merges one resource's value into `radio`; false when the payload is no number.
    public static func apply(path: String, payload: [UInt8], to radio: inout RadioConditions) -> Bool {
        guard let value = number(payload, float: path == sinrPath) else { return false }
        switch path {
        case rsrpPath: radio.rsrp = Int(value.rounded())
        case cellIdPath: radio.cellId = String(Int64(value))
        case sinrPath: radio.sinr = Int(value.rounded())
        default: return false
        }
        return true
    }

    /// A single resource's value: text (`-98`, `9.5`; a GET without Accept gets text/plain from
    /// LwM2M 1.0 clients) or one OMA-TLV resource (integer big-endian; a float when `float`).
    /// Nil beyond ±10^15, whichever the form: a module's 8-byte TLV float or integer may hold any
    /// value, and the callers make `Int`s of it.
    static func number(_ payload: [UInt8], float: Bool) -> Double? {
        guard let first = payload.first else { return nil }
        let value: Double?
        if first & 0xC0 == 0xC0 {
            value = tlvNumber(payload, float: float)
        } else {
            value = Double(String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespaces))
        }
        guard let value, value.isFinite, abs(value) < 1e15 else { return nil }
        return value
    }

    /// One TLV "resource with value": type byte, 1 or 2 id bytes, the length (in the type or in
    /// 1–3 bytes), the value.
    static func tlvNumber(_ bytes: [UInt8], float: Bool) -> Double? {
        let type = bytes[0]
        var index = 1 + (type & 0x20 != 0 ? 2 : 1)
        let lengthBytes = Int((type >> 3) & 0x03)
        var length = Int(type & 0x07)
        if lengthBytes > 0 {
            guard bytes.count >= index + lengthBytes else { return nil }
            length = bytes[index..<index + lengthBytes].reduce(0) { $0 << 8 | Int($1) }
            index += lengthBytes
        }
        guard bytes.count == index + length else { return nil }
        let value = Array(bytes[index...])
        let bits = value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if float {
            switch length {
            case 4: return Double(Float(bitPattern: UInt32(bits)))
            case 8: return Double(bitPattern: bits)
            default: break
            }
        }
        switch length {
        case 1: return Double(Int8(truncatingIfNeeded: bits))
        case 2: return Double(Int16(truncatingIfNeeded: bits))
        case 4: return Double(Int32(truncatingIfNeeded: bits))
        case 8: return Double(Int64(bitPattern: bits))
        default: return nil
        }
    }

    /// Radio values among a decoded report's properties (names compared case-insensitively):
    /// `rsrp` or `signalStrength` (dBm), `sinr` (dB), `cellId` or `cell_id`. Nil when none.
    public static func fromReport(_ services: [ServiceReport]) -> RadioConditions? {
        var radio = RadioConditions()
        var found = false
        for service in services {
            for (name, value) in service.properties.pairs {
                switch name.lowercased() {
                case "rsrp", "signalstrength":
                    if let number = number(value) { radio.rsrp = Int(number.rounded()); found = true }
                case "sinr":
                    if let number = number(value) { radio.sinr = Int(number.rounded()); found = true }
                case "cellid", "cell_id":
                    if let cell = cellId(value) { radio.cellId = cell; found = true }
                default:
                    break
                }
            }
        }
        return found ? radio : nil
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let int): Double(int)
        case .uint(let uint): Double(uint)
        case .double(let double) where double.isFinite && abs(double) < 1e15: double
        case .string(let text): Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite && abs($0) < 1e15 ? $0 : nil }
        default: nil
        }
    }

    private static func cellId(_ value: JSONValue) -> String? {
        switch value {
        case .int(let int): String(int)
        case .uint(let uint): String(uint)
        case .double(let double) where double.isFinite && abs(double) < 1e15: String(Int64(double))
        case .string(let text) where !text.isEmpty: text
        default: nil
        }
    }
}
