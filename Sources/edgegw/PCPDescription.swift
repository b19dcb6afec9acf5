import DeviceCodec
import GatewayCore
import PCP

/// `edgegw pcp decode`'s JSON: the header, the CRC, and each sender's reading of the data area.
enum PCPDescription {
    static func frame(_ frame: [UInt8], senders: [PCPMessage.Sender]) -> JSONValue {
        var out = JSONObject()
        out["hex"] = .string(CodecHex.string(frame))
        out["length"] = .int(Int64(frame.count))
        let verdict = PCPRecognition.classify(frame, upgradeCapable: true, upgradeProtocolIsPCP: true)
        out["pcp"] = .bool(verdict.isPCP)
        // Header fields only for what starts like a frame: business data has none.
        let marked = verdict != .noStartMarker
        if marked, frame.count >= 4 {
            out["code"] = .int(Int64(frame[3]))
            out["code_hex"] = .string(hex(frame[3]))
            if let code = PCPMessageCode(rawValue: frame[3]) { out["name"] = .string(code.name) }
        }
        if marked, let stored = PCPRecognition.storedChecksum(frame), let computed = PCPRecognition.computedChecksum(frame) {
            out["crc"] = ["ok": .bool(stored == computed), "stored": .string(hex(stored)), "computed": .string(hex(computed))]
        }
        if marked, frame.count >= PCPRecognition.headerLength {
            out["data_length"] = .int(Int64(frame[6]) << 8 | Int64(frame[7]))
        }
        guard verdict.isPCP else {
            out["recognition"] = [
                "failed_step": .int(Int64(verdict.failedStep ?? 0)),
                "check": .string(verdict.check),
                "reason": .string(reason(verdict, frame)),
                "meaning": "business data: the gateway hands it to the product's codec",
            ]
            return .object(out)
        }
        for sender in senders {
            let key = sender == .device ? "from_device" : "from_platform"
            switch PCPCodec.decode(frame, from: sender) {
            case .success(let message): out[key] = .object(fields(message))
            case .failure(let error): out[key] = ["error": .string(error.description)]
            }
        }
        return .object(out)
    }

    /// The step's reason with the frame's own values.
    static func reason(_ verdict: PCPRecognition.Verdict, _ frame: [UInt8]) -> String {
        switch verdict {
        case .noStartMarker where frame.count >= 2:
            return "the first two bytes are \(hex(frame[0]))\(hex(frame[1]).dropFirst(2)), not 0xFFFE"
        case .noStartMarker:
            return "the payload is shorter than the 2-byte start marker FF FE"
        case .invalidVersion where frame.count < PCPRecognition.headerLength:
            return "the frame has \(frame.count) bytes, fewer than the 8-byte header"
        case .invalidVersion:
            return "the version byte is \(hex(frame[2])): its low nibble is not 1"
        case .invalidCode:
            return "the message code \(frame[3]) (\(hex(frame[3]))) is not 19…24 (0x13…0x18)"
        case .badChecksum:
            let stored = PCPRecognition.storedChecksum(frame) ?? 0
            let computed = PCPRecognition.computedChecksum(frame) ?? 0
            return "the CRC16 field holds \(hex(stored)) but the frame's CRC16 is \(hex(computed))"
        case .badLength:
            let declared = Int(frame[6]) << 8 | Int(frame[7])
            return "the data length field says \(declared) bytes, the frame carries \(frame.count - PCPRecognition.headerLength)"
        default:
            return verdict.reason
        }
    }

    static func fields(_ message: PCPMessage) -> JSONObject {
        var out = JSONObject()
        out["role"] = .string(PCPCodec.role(message.code, from: message.sender))
        switch message {
        case .queryVersion:
            out["message"] = "query_version"
        case .newVersion(let notice):
            out["message"] = "new_version"
            out["target_version"] = .string(notice.targetVersion)
            out["fragment_size"] = .int(Int64(notice.fragmentSize))
            out["fragment_count"] = .int(Int64(notice.fragmentCount))
            out["check_code"] = .string(hex(notice.checkCode))
        case .fragment(let result, let index, let data):
            out["message"] = "fragment"
            out["result"] = describe(result)
            out["index"] = .int(Int64(index))
            out["data_length"] = .int(Int64(data.count))
            out["data"] = .string(CodecHex.string(data))
        case .downloadResultAck(let result):
            out["message"] = "download_result_ack"
            out["result"] = describe(result)
        case .execute:
            out["message"] = "execute"
        case .upgradeResultAck(let result):
            out["message"] = "upgrade_result_ack"
            out["result"] = describe(result)
        case .versionReport(let result, let version):
            out["message"] = "version_report"
            out["result"] = describe(result)
            out["version"] = .string(version)
        case .newVersionAnswer(let result):
            out["message"] = "new_version_answer"
            out["result"] = describe(result)
        case .fragmentRequest(let targetVersion, let index):
            out["message"] = "fragment_request"
            out["target_version"] = .string(targetVersion)
            out["index"] = .int(Int64(index))
        case .downloadResult(let status):
            out["message"] = "download_result"
            out["download_status"] = describe(status)
        case .executeAnswer(let result):
            out["message"] = "execute_answer"
            out["result"] = describe(result)
        case .upgradeResult(let result, let version):
            out["message"] = "upgrade_result"
            out["result"] = describe(result)
            out["version"] = .string(version)
        }
        return out
    }

    static func describe(_ result: PCPResult) -> JSONValue {
        ["code": .int(Int64(result.rawValue)), "hex": .string(hex(result.rawValue)), "meaning": .string(result.meaning)]
    }

    static func hex(_ byte: UInt8) -> String { "0x" + CodecHex.string([byte]) }
    static func hex(_ word: UInt16) -> String { "0x" + CodecHex.string([UInt8(word >> 8), UInt8(word & 0xFF)]) }
}
