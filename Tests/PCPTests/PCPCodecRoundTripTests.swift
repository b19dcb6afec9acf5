import Testing
@testable import PCP

/// Every message encodes and decodes back to itself, at the limits of each field.
@Suite struct PCPCodecRoundTripTests {
    static let versions = ["", "V", "V1.0", "0123456789ABCDEF", "v2.3.4-rc1+build"]
    static let results: [PCPResult] = [.success, .deviceInUse, .insufficientSpace, .installFailed, .internalError,
                                       .noTask, .noSuchFragment, PCPResult(0x42), PCPResult(0xFF)]

    static var messages: [PCPMessage] {
        var all: [PCPMessage] = [.queryVersion, .execute]
        for version in versions {
            for size: UInt16 in [0, 32, 500, 0xFFFF] {
                all.append(.newVersion(PCPNewVersion(targetVersion: version, fragmentSize: size,
                                                     fragmentCount: size == 0 ? 0 : 0xFFFF, checkCode: 0xBEEF)))
            }
            for index: UInt16 in [0, 1, 0xFFFF] { all.append(.fragmentRequest(targetVersion: version, index: index)) }
            for result in results {
                all.append(.versionReport(result: result, version: version))
                all.append(.upgradeResult(result: result, version: version))
            }
        }
        for result in results {
            all += [.newVersionAnswer(result), .downloadResult(result), .downloadResultAck(result),
                    .executeAnswer(result), .upgradeResultAck(result),
                    .fragment(result: result, index: 0x8001, data: [])]
        }
        for size in [0, 1, 32, 117, 500] {
            all.append(.fragment(result: .success, index: UInt16(size), data: (0..<size).map { UInt8($0 & 0xFF) }))
        }
        return all
    }

    @Test func everyMessageRoundTrips() throws {
        for message in Self.messages {
            let frame = try PCPCodec.encode(message)
            #expect(PCPRecognition.isPCPFrame(frame), "\(message)")
            #expect(PCPCodec.decode(frame, from: message.sender) == .success(message), "\(message)")
        }
    }

    @Test func versionsArePaddedToSixteenBytes() throws {
        let empty = try PCPCodec.encode(.versionReport(result: .success, version: ""))
        #expect(empty.count == 8 + 17)
        #expect(empty[9...].allSatisfy { $0 == 0 })
        let full = try PCPCodec.encode(.versionReport(result: .success, version: "0123456789ABCDEF"))
        #expect(Array(full[9...]) == Array("0123456789ABCDEF".utf8))
    }

    @Test func unknownResultBytesAreKept() throws {
        let frame = try PCPCodec.encode(.executeAnswer(PCPResult(0x42)))
        #expect(frame.last == 0x42)
        guard case .success(.executeAnswer(let result)) = PCPCodec.decode(frame, from: .device) else {
            Issue.record("did not decode")
            return
        }
        #expect(result.rawValue == 0x42 && result.meaning == "unlisted")
    }

    @Test func fragmentSizes() throws {
        for size in [0, 32, 500] {
            let frame = try PCPCodec.encode(.fragment(result: .success, index: 7, data: [UInt8](repeating: 0xAA, count: size)))
            #expect(frame.count == 8 + 3 + size)
            #expect(Int(frame[6]) << 8 | Int(frame[7]) == 3 + size)
        }
    }

    // MARK: Refused on encode

    @Test func refusesAVersionLongerThanSixteenBytes() {
        #expect(throws: PCPEncodeError.versionTooLong("0123456789ABCDEFG")) {
            try PCPCodec.encode(.fragmentRequest(targetVersion: "0123456789ABCDEFG", index: 0))
        }
    }

    @Test(arguments: ["V1.0é", "版本", "V1\u{0}x"])
    func refusesAVersionThatIsNotASCII(version: String) {
        #expect(throws: PCPEncodeError.versionNotASCII(version)) {
            try PCPCodec.encode(.newVersion(PCPNewVersion(targetVersion: version, fragmentSize: 500, fragmentCount: 1)))
        }
        #expect(throws: PCPEncodeError.versionNotASCII(version)) {
            try PCPCodec.encode(.upgradeResult(result: .success, version: version))
        }
    }

    @Test func refusesAFragmentLongerThanTheLargestFragmentSize() {
        #expect(throws: PCPEncodeError.fragmentTooLong(byteCount: 501)) {
            try PCPCodec.encode(.fragment(result: .success, index: 0, data: [UInt8](repeating: 0, count: 501)))
        }
    }

    @Test func refusesDataOnAFailedFragmentAnswer() {
        #expect(throws: PCPEncodeError.dataOnFailedFragment(.noSuchFragment)) {
            try PCPCodec.encode(.fragment(result: .noSuchFragment, index: 9, data: [1]))
        }
    }
}
