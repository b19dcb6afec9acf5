import Testing
@testable import PCP

/// The platform's PCP-or-business-data rule (spec lwm2m-coap §2.9, §12.2): every failed step
/// means business data, so the payload goes to the codec instead of being dropped.
@Suite struct PCPRecognitionTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
    }

    func classify(_ payload: [UInt8]) -> PCPRecognition.Verdict {
        PCPRecognition.classify(payload, upgradeCapable: true, upgradeProtocolIsPCP: true)
    }

    /// The documented frames (spec §12.1 test vectors) are all PCP.
    @Test(arguments: [
        "FFFE01134C9A0000",
        "FFFE01138DE300110056302E39000000000000000000000000",
        "FFFE01143AE6001656312E3000000000000000000000000001F400010000",
        "FFFE0114D768000100",
        "FFFE01155618001256312E300000000000000000000000000000",
        "FFFE0115E107001300000048454C4C4F2C20496F5420534F544121",
        "FFFE0116850E000100",
        "FFFE0117CF900000",
        "FFFE0117B725000100",
        "FFFE0118C7D200110056312E30000000000000000000000000",
        "FFFE0118AFA1000100",
    ])
    func documentedFramesArePCP(hex: String) {
        #expect(classify(Self.bytes(hex)) == .pcp)
        #expect(PCPRecognition.isPCPFrame(Self.bytes(hex)))
    }

    @Test func checksumMatchesTheDocumentedAlgorithm() {
        #expect(PCPRecognition.checksum(Array("123456789".utf8)) == 0xB955)
        #expect(PCPRecognition.checksum([0xFF, 0xFE, 0x01, 0x13, 0, 0, 0, 0]) == 0x4C9A)
        // The erratum entry of the printed tables (index 89).
        #expect(PCPRecognition.crcTable[89] == 0xCBDC)
    }

    @Test func steps1And2DependOnTheProduct() {
        let frame = Self.bytes("FFFE01134C9A0000")
        #expect(PCPRecognition.classify(frame, upgradeCapable: false, upgradeProtocolIsPCP: true) == .noUpgradeCapability)
        #expect(PCPRecognition.classify(frame, upgradeCapable: true, upgradeProtocolIsPCP: false) == .upgradeProtocolNotPCP)
    }

    @Test func step3StartMarker() {
        #expect(classify([]) == .noStartMarker)
        #expect(classify([0xFF]) == .noStartMarker)
        #expect(classify(Self.bytes("FEFF01134C9A0000")) == .noStartMarker)
        #expect(classify(Self.bytes("01 04D2 0001E240")) == .noStartMarker)
    }

    @Test func step4Version() {
        // Low nibble 1 is version 1 whatever the reserved high nibble holds.
        var reserved = Self.bytes("FFFE01134C9A0000")
        reserved[2] = 0xF1
        #expect(classify(reserved) != .invalidVersion)
        #expect(classify(Self.bytes("FFFE02134C9A0000")) == .invalidVersion)
        #expect(classify(Self.bytes("FFFE00134C9A0000")) == .invalidVersion)
        // Shorter than the 8-byte header: cannot be PCP.
        #expect(classify(Self.bytes("FFFE01")) == .invalidVersion)
        #expect(classify(Self.bytes("FFFE01134C9A00")) == .invalidVersion)
    }

    @Test func step5Code() {
        #expect(classify(Self.bytes("FFFE01124C9A0000")) == .invalidCode)
        #expect(classify(Self.bytes("FFFE01194C9A0000")) == .invalidCode)
        #expect(classify(Self.bytes("FFFE01FF4C9A0000")) == .invalidCode)
        #expect(PCPRecognition.validCodes == 0x13...0x18)
    }

    @Test func step6ChecksumWrongMeansBusinessData() {
        #expect(classify(Self.bytes("FFFE01134C9B0000")) == .badChecksum)
        // The documented 0x14 example checksum 02F7 does not reproduce (erratum C7).
        #expect(classify(Self.bytes("FFFE011402F7001656312E3000000000000000000000000001F400010000")) == .badChecksum)
        // One flipped data bit.
        #expect(classify(Self.bytes("FFFE0115E107001300000048454C4C4F2C20496F5420534F544120")) == .badChecksum)
    }

    @Test func step7Length() {
        // The printed 28-byte 0x13 response (3 surplus zero bytes, erratum C8): the checksum is
        // computed over the whole frame as it arrives, so it fails at step 6 or 7, never PCP.
        let padded = Self.bytes("FFFE01138DE300110056302E39000000000000000000000000000000")
        #expect(classify(padded) != .pcp)
        // A frame whose checksum is right for its bytes but whose length field lies.
        var frame = Self.bytes("FFFE0116000000020000")   // declares 2 data bytes, carries 2: fix then break
        frame[4] = 0; frame[5] = 0
        frame[7] = 0x01   // declares 1, carries 2
        let crc = PCPRecognition.checksum(frame)
        frame[4] = UInt8(crc >> 8); frame[5] = UInt8(crc & 0xFF)
        #expect(classify(frame) == .badLength)
        frame[7] = 0x02
        frame[4] = 0; frame[5] = 0
        let good = PCPRecognition.checksum(frame)
        frame[4] = UInt8(good >> 8); frame[5] = UInt8(good & 0xFF)
        #expect(classify(frame) == .pcp)
    }
}
