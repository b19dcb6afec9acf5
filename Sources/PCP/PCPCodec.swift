/// PCP frames to messages and back (spec lwm2m-coap §2.2–§2.4): pure, no clock, no socket.
///
/// A frame is `FF FE`, version `01`, the message code, the CRC16 of the frame with this field
/// zeroed (`PCPRecognition.checksum`), the data length (big-endian WORD) and the data area.
/// Request and answer share a code, so decoding needs to know who sent the frame.
public enum PCPCodec {
    /// The version byte written: reserved high nibble 0, protocol version 1.
    public static let versionByte: UInt8 = PCPRecognition.protocolVersion

    // MARK: Encode

    public static func encode(_ message: PCPMessage) throws(PCPEncodeError) -> [UInt8] {
        var data: [UInt8] = []
        switch message {
        case .queryVersion, .execute:
            break
        case .newVersion(let notice):
            data += try versionField(notice.targetVersion)
            append(notice.fragmentSize, to: &data)
            append(notice.fragmentCount, to: &data)
            append(notice.checkCode, to: &data)
        case .fragment(let result, let index, let fragment):
            guard fragment.count <= PCPLimits.fragmentSizes.upperBound else {
                throw .fragmentTooLong(byteCount: fragment.count)
            }
            guard result.isSuccess || fragment.isEmpty else { throw .dataOnFailedFragment(result) }
            data.append(result.rawValue)
            append(index, to: &data)
            data += fragment
        case .downloadResultAck(let result), .upgradeResultAck(let result), .newVersionAnswer(let result),
             .downloadResult(let result), .executeAnswer(let result):
            data.append(result.rawValue)
        case .versionReport(let result, let version), .upgradeResult(let result, let version):
            data.append(result.rawValue)
            data += try versionField(version)
        case .fragmentRequest(let targetVersion, let index):
            data += try versionField(targetVersion)
            append(index, to: &data)
        }
        return frame(code: message.code.rawValue, data: data)
    }

    /// A frame around `data` (at most 503 bytes from `encode`, well under the WORD length).
    static func frame(code: UInt8, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(PCPFrame.startMarker >> 8), UInt8(PCPFrame.startMarker & 0xFF), versionByte, code, 0, 0]
        bytes.reserveCapacity(PCPRecognition.headerLength + data.count)
        append(UInt16(truncatingIfNeeded: data.count), to: &bytes)
        bytes += data
        let crc = PCPRecognition.checksum(bytes)
        bytes[4] = UInt8(crc >> 8)
        bytes[5] = UInt8(crc & 0xFF)
        return bytes
    }

    /// BYTE[16]: ASCII without 0x00, right-padded with 0x00.
    static func versionField(_ version: String) throws(PCPEncodeError) -> [UInt8] {
        let bytes = Array(version.utf8)
        guard bytes.allSatisfy({ (0x01...0x7F).contains($0) }) else { throw .versionNotASCII(version) }
        guard bytes.count <= PCPLimits.versionBytes else { throw .versionTooLong(version) }
        return bytes + [UInt8](repeating: 0, count: PCPLimits.versionBytes - bytes.count)
    }

    private static func append(_ word: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(word >> 8))
        bytes.append(UInt8(word & 0xFF))
    }

    // MARK: Decode

    /// Decodes a frame `sender` sent. Steps 3–7 of the recognition rule come first
    /// (`PCPRecognition.classify`), then the data area is checked against the message's layout
    /// before any field is read.
    public static func decode(_ frame: [UInt8], from sender: PCPMessage.Sender) -> Result<PCPMessage, PCPDecodeError> {
        let verdict = PCPRecognition.classify(frame, upgradeCapable: true, upgradeProtocolIsPCP: true)
        guard verdict == .pcp else { return .failure(.notPCP(verdict)) }
        guard let code = PCPMessageCode(rawValue: frame[3]) else { return .failure(.notPCP(.invalidCode)) }
        // Recognition checked 8 + length == frame.count: the data area is the rest of the frame.
        let data = frame[PCPRecognition.headerLength...]
        do {
            return .success(try message(code: code, from: sender, data: data))
        } catch {
            return .failure(error)
        }
    }

    private static func message(code: PCPMessageCode, from sender: PCPMessage.Sender,
                                data: ArraySlice<UInt8>) throws(PCPDecodeError) -> PCPMessage {
        var reader = Reader(bytes: data)
        func require(_ count: Int, _ layout: String) throws(PCPDecodeError) {
            guard data.count == count else {
                throw .dataLength(code: code, sender: sender, expected: "\(count) bytes (\(layout))", actual: data.count)
            }
        }
        switch (code, sender) {
        case (.queryVersion, .platform):
            try require(0, "none")
            return .queryVersion
        case (.queryVersion, .device):
            try require(17, "result, version[16]")
            return .versionReport(result: PCPResult(reader.byte()), version: try version(&reader, code))
        case (.newVersion, .platform):
            try require(22, "version[16], fragment size, fragment count, check code")
            let target = try version(&reader, code)
            return .newVersion(PCPNewVersion(targetVersion: target, fragmentSize: reader.word(),
                                             fragmentCount: reader.word(), checkCode: reader.word()))
        case (.newVersion, .device):
            try require(1, "result")
            return .newVersionAnswer(PCPResult(reader.byte()))
        case (.requestFragment, .device):
            try require(18, "version[16], fragment index")
            let target = try version(&reader, code)
            return .fragmentRequest(targetVersion: target, index: reader.word())
        case (.requestFragment, .platform):
            let maximum = 3 + PCPLimits.fragmentSizes.upperBound
            guard data.count >= 3, data.count <= maximum else {
                throw .dataLength(code: code, sender: sender,
                                  expected: "3…\(maximum) bytes (result, fragment index, up to \(maximum - 3) bytes of fragment)",
                                  actual: data.count)
            }
            let result = PCPResult(reader.byte())
            guard result.isSuccess || data.count == 3 else {
                throw .dataLength(code: code, sender: sender,
                                  expected: "3 bytes (result \(result) carries no fragment)", actual: data.count)
            }
            return .fragment(result: result, index: reader.word(), data: reader.rest())
        case (.downloadResult, .device):
            try require(1, "download status")
            return .downloadResult(PCPResult(reader.byte()))
        case (.downloadResult, .platform):
            try require(1, "result")
            return .downloadResultAck(PCPResult(reader.byte()))
        case (.execute, .platform):
            try require(0, "none")
            return .execute
        case (.execute, .device):
            try require(1, "result")
            return .executeAnswer(PCPResult(reader.byte()))
        case (.upgradeResult, .device):
            try require(17, "result, version[16]")
            return .upgradeResult(result: PCPResult(reader.byte()), version: try version(&reader, code))
        case (.upgradeResult, .platform):
            try require(1, "result")
            return .upgradeResultAck(PCPResult(reader.byte()))
        }
    }

    /// A BYTE[16] version: the ASCII characters up to the first 0x00 (what follows is padding).
    private static func version(_ reader: inout Reader, _ code: PCPMessageCode) throws(PCPDecodeError) -> String {
        let field = reader.bytes(PCPLimits.versionBytes)
        let text = field.prefix { $0 != 0 }
        guard text.allSatisfy({ $0 < 0x80 }) else { throw .versionNotASCII(code: code, bytes: Array(field)) }
        return String(decoding: text, as: UTF8.self)
    }

    /// How the spec names a (code, sender) pair: "0x13 answer from the device".
    public static func role(_ code: PCPMessageCode, from sender: PCPMessage.Sender) -> String {
        let hex = "0x" + String(code.rawValue, radix: 16, uppercase: true)
        let isRequest: Bool
        switch code {
        case .queryVersion, .newVersion, .execute: isRequest = sender == .platform
        case .requestFragment, .downloadResult, .upgradeResult: isRequest = sender == .device
        }
        return "\(hex) \(isRequest ? "request" : "answer") from the \(sender == .device ? "device" : "platform")"
    }
}

/// Reads a data area whose length the caller has checked first: every read is within bounds by
/// then; past the end it yields zeros rather than trapping.
private struct Reader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    mutating func byte() -> UInt8 {
        guard offset < bytes.endIndex else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func word() -> UInt16 {
        let high = UInt16(byte())
        return high << 8 | UInt16(byte())
    }

    mutating func bytes(_ count: Int) -> ArraySlice<UInt8> {
        let end = min(offset + count, bytes.endIndex)
        defer { offset = end }
        return bytes[offset..<end]
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.endIndex }
        return Array(bytes[offset...])
    }
}
