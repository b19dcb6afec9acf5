import Testing
@testable import PCP

/// Whatever arrives on the data channel: never a crash, always a typed error.
@Suite struct PCPCodecHostileTests {
    static let senders: [PCPMessage.Sender] = [.device, .platform]

    @Test func everyTruncationOfEveryGoldenFrameIsATypedError() {
        for golden in PCPCodecGoldenTests.frames {
            let frame = bytes(golden.hex)
            for length in 0..<frame.count {
                let cut = Array(frame.prefix(length))
                for sender in Self.senders {
                    guard case .failure(.notPCP(let verdict)) = PCPCodec.decode(cut, from: sender) else {
                        Issue.record("\(golden.hex) cut to \(length) bytes decoded")
                        continue
                    }
                    #expect((3...7).contains(verdict.failedStep ?? 0))
                }
            }
        }
    }

    @Test func aDataLengthThatClaimsMoreThanIsPresent() {
        // The header of a fragment answer claiming 0xFFFF data bytes, with the CRC right for it.
        var frame: [UInt8] = [0xFF, 0xFE, 0x01, 0x15, 0, 0, 0xFF, 0xFF, 0x00, 0x00, 0x01]
        let crc = PCPRecognition.checksum(frame)
        frame[4] = UInt8(crc >> 8)
        frame[5] = UInt8(crc & 0xFF)
        #expect(PCPCodec.decode(frame, from: .platform) == .failure(.notPCP(.badLength)))
    }

    @Test func eachRecognitionStepIsNamed() {
        #expect(PCPCodec.decode([], from: .device) == .failure(.notPCP(.noStartMarker)))
        #expect(PCPCodec.decode(bytes("0104D20001E240"), from: .device) == .failure(.notPCP(.noStartMarker)))
        #expect(PCPCodec.decode(bytes("FFFE02134C9A0000"), from: .device) == .failure(.notPCP(.invalidVersion)))
        #expect(PCPCodec.decode(bytes("FFFE01194C9A0000"), from: .device) == .failure(.notPCP(.invalidCode)))
        #expect(PCPCodec.decode(bytes("FFFE01134C9B0000"), from: .device) == .failure(.notPCP(.badChecksum)))
        let verdicts: [PCPRecognition.Verdict] = [.noStartMarker, .invalidVersion, .invalidCode, .badChecksum, .badLength]
        #expect(verdicts.map(\.failedStep) == [3, 4, 5, 6, 7])
        #expect(PCPDecodeError.notPCP(.badChecksum).description.contains("step 6"))
    }

    /// A well-formed frame (right CRC and length) whose data area does not fit the message.
    @Test(arguments: [
        (UInt8(0x13), PCPMessage.Sender.platform, 1), (0x13, .device, 16), (0x13, .device, 18), (0x13, .device, 0),
        (0x14, .platform, 21), (0x14, .platform, 23), (0x14, .device, 0), (0x14, .device, 2),
        (0x15, .device, 17), (0x15, .device, 19), (0x15, .platform, 2), (0x15, .platform, 504),
        (0x16, .device, 0), (0x16, .platform, 2), (0x17, .platform, 1), (0x17, .device, 0),
        (0x18, .device, 1), (0x18, .device, 25), (0x18, .platform, 17),
    ])
    func wrongDataLengthForTheMessage(code: UInt8, sender: PCPMessage.Sender, length: Int) throws {
        let frame = PCPCodec.frame(code: code, data: [UInt8](repeating: 0x30, count: length))
        #expect(PCPRecognition.isPCPFrame(frame))
        guard case .failure(.dataLength(let decodedCode, let decodedSender, _, let actual)) = PCPCodec.decode(frame, from: sender) else {
            Issue.record("code \(code) from \(sender) with \(length) data bytes decoded")
            return
        }
        #expect(decodedCode.rawValue == code && decodedSender == sender && actual == length)
    }

    /// A 0x15 answer whose result is not success has index but no fragment (spec §2.4.3, literal reading).
    @Test func failedFragmentAnswerWithDataIsRefused() {
        let bare = PCPCodec.frame(code: 0x15, data: [0x81, 0x00, 0x09])
        #expect(PCPCodec.decode(bare, from: .platform) == .success(.fragment(result: .noSuchFragment, index: 9, data: [])))
        let withData = PCPCodec.frame(code: 0x15, data: [0x81, 0x00, 0x09, 0x01])
        guard case .failure(.dataLength(_, _, let expected, 4)) = PCPCodec.decode(withData, from: .platform) else {
            Issue.record("decoded data on a failed fragment answer")
            return
        }
        #expect(expected.hasPrefix("3 "))
    }

    @Test func versionFieldThatIsNotASCII() {
        var data: [UInt8] = [0x00, 0x56, 0xC3, 0xA9]
        data += [UInt8](repeating: 0, count: 13)
        let frame = PCPCodec.frame(code: 0x18, data: data)
        guard case .failure(.versionNotASCII(.upgradeResult, let field)) = PCPCodec.decode(frame, from: .device) else {
            Issue.record("decoded a non-ASCII version")
            return
        }
        #expect(field.count == 16)
    }

    @Test func versionStopsAtTheFirstZero() {
        var data: [UInt8] = Array("V1.0".utf8) + [0] + Array("junk".utf8)
        data += [UInt8](repeating: 0, count: 16 - data.count)
        data += [0x00, 0x05]
        let frame = PCPCodec.frame(code: 0x15, data: data)
        #expect(PCPCodec.decode(frame, from: .device) == .success(.fragmentRequest(targetVersion: "V1.0", index: 5)))
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        for round in 0..<20_000 {
            let count = Int(generator.next() % 64)
            var frame = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Half the time a plausible header, so the later steps and the data layouts are reached.
            if round % 2 == 0, count >= 8 {
                frame[0] = 0xFF; frame[1] = 0xFE; frame[2] = 0x01
                frame[3] = 0x13 + UInt8(generator.next() % 6)
                frame[6] = UInt8((count - 8) >> 8); frame[7] = UInt8((count - 8) & 0xFF)
                let crc = PCPRecognition.computedChecksum(frame) ?? 0
                frame[4] = UInt8(crc >> 8); frame[5] = UInt8(crc & 0xFF)
            }
            for sender in Self.senders {
                if case .success(let message) = PCPCodec.decode(frame, from: sender) {
                    // Whatever decodes re-encodes to a frame that decodes to the same message.
                    let again = try? PCPCodec.encode(message)
                    #expect(again.map { PCPCodec.decode($0, from: sender) } == .success(message))
                }
            }
        }
    }
}

/// A small deterministic generator, so a failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
