import Testing
@testable import PCP

/// The spec's worked frames (lwm2m-coap §2.8; `pcp_crc_check.py` prints them) both ways.
@Suite struct PCPCodecGoldenTests {
    struct Golden: Sendable, CustomTestStringConvertible {
        let hex: String
        let sender: PCPMessage.Sender
        let message: PCPMessage
        var testDescription: String { "\(hex) from \(sender)" }
    }

    static let hello = Array("HELLO, IoT SOTA!".utf8)

    /// The "Correct frame" column, rows 1–12.
    static let frames: [Golden] = [
        Golden(hex: "FFFE01134C9A0000", sender: .platform, message: .queryVersion),
        Golden(hex: "FFFE01138DE300110056302E39000000000000000000000000", sender: .device,
               message: .versionReport(result: .success, version: "V0.9")),
        Golden(hex: "FFFE01143AE6001656312E3000000000000000000000000001F400010000", sender: .platform,
               message: .newVersion(PCPNewVersion(targetVersion: "V1.0", fragmentSize: 500, fragmentCount: 1, checkCode: 0))),
        Golden(hex: "FFFE0114D768000100", sender: .device, message: .newVersionAnswer(.success)),
        Golden(hex: "FFFE01155618001256312E300000000000000000000000000000", sender: .device,
               message: .fragmentRequest(targetVersion: "V1.0", index: 0)),
        Golden(hex: "FFFE0115E107001300000048454C4C4F2C20496F5420534F544121", sender: .platform,
               message: .fragment(result: .success, index: 0, data: hello)),
        Golden(hex: "FFFE0116850E000100", sender: .device, message: .downloadResult(.success)),
        Golden(hex: "FFFE0116850E000100", sender: .platform, message: .downloadResultAck(.success)),
        Golden(hex: "FFFE0117CF900000", sender: .platform, message: .execute),
        Golden(hex: "FFFE0117B725000100", sender: .device, message: .executeAnswer(.success)),
        Golden(hex: "FFFE0118C7D200110056312E30000000000000000000000000", sender: .device,
               message: .upgradeResult(result: .success, version: "V1.0")),
        Golden(hex: "FFFE0118AFA1000100", sender: .platform, message: .upgradeResultAck(.success)),
    ]

    @Test func twelveFramesOneForEachCodeAndSender() {
        #expect(Self.frames.count == 12)
        #expect(Set(Self.frames.map { "\($0.message.code.rawValue)-\($0.message.sender)" }).count == 12)
        #expect(Self.frames.allSatisfy { $0.message.sender == $0.sender })
    }

    @Test(arguments: frames) func decodes(golden: Golden) {
        #expect(PCPCodec.decode(bytes(golden.hex), from: golden.sender) == .success(golden.message))
    }

    @Test(arguments: frames) func encodesToTheCorrectFrame(golden: Golden) throws {
        #expect(try hex(PCPCodec.encode(golden.message)) == golden.hex)
    }

    /// Row 3: the printed checksum 02F7 reproduces for neither the 30-byte frame nor the printed
    /// 33 bytes; the frame built from the fields has 3AE6, and that is what the codec writes.
    @Test func newVersionExampleChecksumIs3AE6Not02F7() throws {
        let message = PCPMessage.newVersion(PCPNewVersion(targetVersion: "V1.0", fragmentSize: 500, fragmentCount: 1))
        let frame = try PCPCodec.encode(message)
        #expect(frame[4] == 0x3A && frame[5] == 0xE6)
        let printed = bytes("FFFE011402F7001656312E3000000000000000000000000001F400010000")
        #expect(PCPCodec.decode(printed, from: .platform) == .failure(.notPCP(.badChecksum)))
    }

    /// Rows 2, 3, 5 and 11 are printed with surplus 0x00 bytes: as printed they are not PCP.
    @Test(arguments: [
        "FFFE01138DE300110056302E39000000000000000000000000000000",
        "FFFE011402F7001656312E3000000000000000000000000000000001F400010000",
        "FFFE01155618001256312E3000000000000000000000000000000000000000000000",
        "FFFE0118C7D200110056312E300000000000000000000000000000",
    ])
    func printedPaddedFramesAreNotPCP(hex: String) {
        guard case .failure(.notPCP(let verdict)) = PCPCodec.decode(bytes(hex), from: .device) else {
            Issue.record("decoded a padded frame")
            return
        }
        #expect(verdict == .badChecksum || verdict == .badLength)
    }
}

func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}
