import Foundation
import GatewayCore

/// A compact JSON writer for the hot uplink path (property reports). Unlike JSONEncoder it keeps
/// the order of `JSONObject` keys and of the documented fields, so a report reads like the
/// documents' examples and the same values always give the same bytes.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `"key":`
    mutating func key(_ k: String) {
        string(k)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): if b { raw("true") } else { raw("false") }
        case .int(let i): bytes.append(contentsOf: String(i).utf8)
        case .uint(let u): bytes.append(contentsOf: String(u).utf8)
        case .double(let d):
            // JSON has no NaN or infinity: they go out as null, as in JSONValue's Codable encoding.
            if d.isFinite { bytes.append(contentsOf: d.description.utf8) } else { raw("null") }
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, x) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                value(x)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o): object(o)
        }
    }

    mutating func object(_ o: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        for (i, pair) in o.pairs.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            key(pair.key)
            value(pair.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func comma() { bytes.append(UInt8(ascii: ",")) }
    mutating func open() { bytes.append(UInt8(ascii: "{")) }
    mutating func close() { bytes.append(UInt8(ascii: "}")) }
    mutating func openArray() { bytes.append(UInt8(ascii: "[")) }
    mutating func closeArray() { bytes.append(UInt8(ascii: "]")) }

    var data: Data { Data(bytes) }
}

/// Types written by `JSONWriter` instead of JSONEncoder (field order as in the documents).
protocol OrderedJSONWritable {
    func write(to writer: inout JSONWriter)
}

extension ServiceProperty: OrderedJSONWritable {
    func write(to w: inout JSONWriter) {
        w.open()
        w.key("service_id"); w.string(serviceId); w.comma()
        w.key("properties"); w.object(properties)
        if let eventTime { w.comma(); w.key("event_time"); w.string(eventTime) }
        w.close()
    }
}

extension Array where Element == ServiceProperty {
    func write(to w: inout JSONWriter) {
        w.openArray()
        for (i, s) in enumerated() {
            if i > 0 { w.comma() }
            s.write(to: &w)
        }
        w.closeArray()
    }
}

extension PropertiesReport: OrderedJSONWritable {
    func write(to w: inout JSONWriter) {
        w.open(); w.key("services"); services.write(to: &w); w.close()
    }
}

extension DeviceProperties: OrderedJSONWritable {
    func write(to w: inout JSONWriter) {
        w.open()
        w.key("device_id"); w.string(deviceId); w.comma()
        w.key("services"); services.write(to: &w)
        w.close()
    }
}

extension BatchPropertyReport: OrderedJSONWritable {
    func write(to w: inout JSONWriter) {
        w.open(); w.key("devices"); w.openArray()
        for (i, d) in devices.enumerated() {
            if i > 0 { w.comma() }
            d.write(to: &w)
        }
        w.closeArray(); w.close()
    }
}
