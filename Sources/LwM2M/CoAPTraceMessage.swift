import GatewayCore
import PCP

/// One CoAP message as `edgegw trace nbiot` shows it: its parts as libcoap holds them after
/// DTLS decryption, encoded back to the RFC 7252 wire format (§3: header, token, options in
/// ascending order with delta and length nibbles, 0xFF, payload), with a PCP payload decoded.
/// Pure: the libcoap reading is `CoAPPDU.traceMessage(of:)`.
struct CoAPTraceMessage: Sendable, Equatable {
    struct Option: Sendable, Equatable {
        var number: UInt16
        var value: [UInt8]
    }

    /// 0 CON, 1 NON, 2 ACK, 3 RST.
    var type: UInt8
    /// Class in the top three bits, detail in the low five (0x45 is 2.05).
    var code: UInt8
    var messageId: UInt16
    var token: [UInt8]
    var options: [Option]
    var payload: [UInt8]

    func encode() -> [UInt8] {
        var out: [UInt8] = [0x40 | type << 4 | UInt8(min(token.count, 8)), code, UInt8(messageId >> 8), UInt8(messageId & 0xFF)]
        out += token.prefix(8)
        var previous: UInt16 = 0
        for option in options.sorted(by: { $0.number < $1.number }) {
            let delta = Int(option.number - previous)
            previous = option.number
            let (deltaNibble, deltaExtra) = Self.nibble(delta)
            let (lengthNibble, lengthExtra) = Self.nibble(option.value.count)
            out.append(deltaNibble << 4 | lengthNibble)
            out += deltaExtra + lengthExtra + option.value
        }
        if !payload.isEmpty { out += [0xFF] + payload }
        return out
    }

    /// RFC 7252 §3.1: 0–12 in the nibble, 13 + one byte, 14 + two bytes.
    private static func nibble(_ value: Int) -> (UInt8, [UInt8]) {
        switch value {
        case ..<13: (UInt8(value), [])
        case ..<269: (13, [UInt8(value - 13)])
        default: (14, [UInt8(truncatingIfNeeded: (value - 269) >> 8), UInt8(truncatingIfNeeded: value - 269)])
        }
    }

    static func typeName(_ type: UInt8) -> String { ["CON", "NON", "ACK", "RST"][Int(type & 3)] }

    /// `GET`, `POST` … for requests, `2.05` for responses, `0.00` for an empty message.
    static func codeName(_ code: UInt8) -> String {
        let methods = [1: "GET", 2: "POST", 3: "PUT", 4: "DELETE", 5: "FETCH", 6: "PATCH", 7: "iPATCH"]
        if code >> 5 == 0, let method = methods[Int(code)] { return method }
        let detail = code & 0x1F
        return "\(code >> 5).\(detail < 10 ? "0" : "")\(detail)"
    }

    static let optionNames: [UInt16: String] = [
        1: "If-Match", 3: "Uri-Host", 4: "ETag", 5: "If-None-Match", 6: "Observe", 7: "Uri-Port", 8: "Location-Path",
        11: "Uri-Path", 12: "Content-Format", 14: "Max-Age", 15: "Uri-Query", 17: "Accept", 20: "Location-Query",
        23: "Block2", 27: "Block1", 28: "Size2", 35: "Proxy-Uri", 39: "Proxy-Scheme", 60: "Size1", 292: "Request-Tag",
    ]
    private static let textOptions: Set<UInt16> = [3, 8, 11, 15, 20, 35, 39]

    /// `Uri-Path=rd`, `Observe=0`, `ETag=0x1234`.
    static func describe(_ option: Option) -> String {
        let name = optionNames[option.number] ?? "Option-\(option.number)"
        let value: String
        if textOptions.contains(option.number) {
            value = String(decoding: option.value, as: UTF8.self)
        } else if option.value.count <= 4, option.number != 1, option.number != 4 {
            value = String(option.value.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        } else {
            value = "0x" + option.value.traceHex
        }
        return "\(name)=\(value)"
    }

    /// The named parts of the record; `fromDevice` tells who sent a PCP frame.
    func fields(fromDevice: Bool) -> [TraceRecord.Field] {
        var fields = [TraceRecord.Field("type", Self.typeName(type)), TraceRecord.Field("code", Self.codeName(code)),
                      TraceRecord.Field("mid", String(messageId)), TraceRecord.Field("token", token.traceHex)]
        if !options.isEmpty {
            fields.append(TraceRecord.Field("options", options.map(Self.describe).joined(separator: " ")))
        }
        if !payload.isEmpty {
            fields.append(TraceRecord.Field("payload", payload.traceHex))
            if PCPRecognition.isPCPFrame(payload) {
                fields.append(TraceRecord.Field("pcp", Self.describePCP(payload, fromDevice: fromDevice)))
            }
        }
        return fields
    }

    static func describePCP(_ frame: [UInt8], fromDevice: Bool) -> String {
        switch PCPCodec.decode(frame, from: fromDevice ? .device : .platform) {
        case .success(let message): "\(message.code.name) (0x\(String(message.code.rawValue, radix: 16))): \(message)"
        case .failure(let error): "\(error)"
        }
    }
}
