import PCP

/// `pcp`: a payload on an NB-IoT device's data channel through PCP's recognition rule (the
/// platform's eight steps that tell an upgrade frame from business data) and PCP's frame
/// decoder, as sent by either side.
///
/// Properties: recognition and decoding agree (a frame decodes only when the rule says PCP);
/// every decoded message encodes again, to the very bytes received once the parts the decoder
/// does not keep are made canonical: the version byte's reserved high nibble (written 0), a
/// version field's bytes after its terminating 00 (written 00), and so the checksum.
enum PCPTarget {
    static let target = FuzzTarget(
        name: "pcp", maxInputBytes: PCPRecognition.headerLength + 3 + 512,
        summary: "PCPRecognition.classify and PCPCodec.decode from either side; encode(decode(x)) == x made canonical",
        run: run)

    static func run(_ bytes: [UInt8]) {
        for capable in [false, true] {
            for isPCP in [false, true] {
                let verdict = PCPRecognition.classify(bytes, upgradeCapable: capable, upgradeProtocolIsPCP: isPCP)
                _ = (verdict.failedStep, verdict.check, verdict.reason)
                if !capable { FuzzCheck.require(verdict == .noUpgradeCapability, "not upgrade-capable, yet \(verdict)") }
                if capable, !isPCP { FuzzCheck.require(verdict == .upgradeProtocolNotPCP, "protocol not PCP, yet \(verdict)") }
            }
        }
        let verdict = PCPRecognition.classify(bytes, upgradeCapable: true, upgradeProtocolIsPCP: true)
        FuzzCheck.require(PCPRecognition.isPCPFrame(bytes) == (verdict == .pcp), "isPCPFrame disagrees with classify (\(verdict))")
        for sender in [PCPMessage.Sender.platform, .device] {
            switch PCPCodec.decode(bytes, from: sender) {
            case .success(let message):
                FuzzCheck.require(verdict == .pcp, "\(hexText(bytes)) decodes to \(message) though recognition says \(verdict)")
                FuzzCheck.require(message.sender == sender && message.code.rawValue == bytes[3],
                                  "\(hexText(bytes)) from the \(sender) decodes to \(message)")
                roundTrip(bytes, message)
            case .failure(let error):
                if case .notPCP(let reason) = error {
                    FuzzCheck.require(verdict != .pcp || reason == .invalidCode, "a PCP frame refused as not PCP (\(reason))")
                } else {
                    FuzzCheck.require(verdict == .pcp, "\(error) for a payload recognition calls \(verdict)")
                }
                _ = error.description
            }
        }
    }

    static func roundTrip(_ bytes: [UInt8], _ message: PCPMessage) {
        let encoded: [UInt8]
        do {
            encoded = try PCPCodec.encode(message)
        } catch {
            FuzzCheck.fail("\(hexText(bytes)) decodes to \(message), which does not encode: \(error)")
        }
        let expected = canonical(bytes, message)
        FuzzCheck.require(encoded == expected, "\(hexText(bytes)) decodes to \(message), which encodes to \(hexText(encoded)), not \(hexText(expected))")
        FuzzCheck.require(PCPCodec.decode(encoded, from: message.sender) == .success(message),
                          "\(message) encodes to \(hexText(encoded)), which decodes differently")
    }

    /// The frame as an encoder writes it: reserved bits 0, version padding 00, checksum recomputed.
    static func canonical(_ bytes: [UInt8], _ message: PCPMessage) -> [UInt8] {
        var frame = bytes
        frame[2] = PCPCodec.versionByte
        let versionStart: Int?
        switch message {
        case .newVersion, .fragmentRequest: versionStart = PCPRecognition.headerLength
        case .versionReport, .upgradeResult: versionStart = PCPRecognition.headerLength + 1
        default: versionStart = nil
        }
        if let start = versionStart, let end = frame[start..<(start + 16)].firstIndex(of: 0) {
            for index in end..<(start + 16) { frame[index] = 0 }
        }
        frame[4] = 0
        frame[5] = 0
        let crc = PCPRecognition.checksum(frame)
        frame[4] = UInt8(crc >> 8)
        frame[5] = UInt8(crc & 0xFF)
        return frame
    }
}
