import LwM2MContent
import Testing

/// TLV against the OMA specification's worked example (OMA-TS-LightweightM2M-V1_0 §6.4.3.1:
/// Read of the Device object /3/0, 121 bytes of resources in one object instance) and hostile input.
struct TLVTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
    }

    /// The specification's Device object instance, resource by resource.
    static let deviceResources: [(TLV, String)] = [
        (.resource(0, .string("Open Mobile Alliance")), "C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65"),
        (.resource(1, .string("Lightweight M2M Client")), "C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74"),
        (.resource(2, .string("345000123")), "C8 02 09 33 34 35 30 30 30 31 32 33"),
        (.resource(3, .string("1.0")), "C3 03 31 2E 30"),
        (.multipleResource(6, [.resourceInstance(0, .integer(1)), .resourceInstance(1, .integer(5))]), "86 06 41 00 01 41 01 05"),
        (.multipleResource(7, [.resourceInstance(0, .integer(3800)), .resourceInstance(1, .integer(5000))]), "88 07 08 42 00 0E D8 42 01 13 88"),
        (.multipleResource(8, [.resourceInstance(0, .integer(125)), .resourceInstance(1, .integer(900))]), "87 08 41 00 7D 42 01 03 84"),
        (.resource(9, .integer(100)), "C1 09 64"),
        (.resource(10, .integer(15)), "C1 0A 0F"),
        (.multipleResource(11, [.resourceInstance(0, .integer(0))]), "83 0B 41 00 00"),
        (.resource(13, .integer(1_367_491_215)), "C4 0D 51 82 42 8F"),
        (.resource(14, .string("+02:00")), "C6 0E 2B 30 32 3A 30 30"),
        (.resource(16, .string("U")), "C1 10 55"),
    ]

    @Test func everyResourceOfTheSpecificationsDeviceExampleEncodesAsPrinted() throws {
        for (entry, printed) in Self.deviceResources {
            #expect(try TLV.encode([entry]) == Self.hex(printed), "\(entry)")
            #expect(try TLV.decode(Self.hex(printed)) == [entry], "\(printed)")
        }
    }

    @Test func theDeviceObjectInstanceIs121BytesBehind080079() throws {
        let resources = Self.deviceResources.map(\.0)
        let bytes = try TLV.encode([.objectInstance(0, resources)])
        #expect(Array(bytes.prefix(3)) == [0x08, 0x00, 0x79])
        #expect(bytes.count == 3 + 121)
        #expect(Array(bytes.dropFirst(3)) == Self.hex(Self.deviceResources.map(\.1).joined(separator: " ")))
        let decoded = try TLV.decode(bytes)
        #expect(decoded == [.objectInstance(0, resources)])
        #expect(decoded.first?.child(13)?.integer == 1_367_491_215)
        #expect(decoded.first?.child(0)?.string == "Open Mobile Alliance")
        #expect(decoded.first?.child(7)?.child(1)?.integer == 5000)
    }

    @Test func identifiersAbove255AndLengthsOfEveryFieldSize() throws {
        for (length, header) in [(7, [0xC7]), (8, [0xC8, 0x08]), (255, [0xC8, 0xFF]), (256, [0xD0, 0x01, 0x00]),
                                 (65_536, [0xD8, 0x01, 0x00, 0x00])] as [(Int, [UInt8])] {
            let value = [UInt8](repeating: 0xAB, count: length)
            let bytes = try TLV.encode([TLV(kind: .resource, id: 1, value: value)])
            #expect(Array(bytes.prefix(header.count + 1)) == [header[0], 0x01] + header.dropFirst(), "length \(length)")
            #expect(try TLV.decode(bytes) == [TLV(kind: .resource, id: 1, value: value)])
        }
        let wide = try TLV.encode([.resource(0x1234, .boolean(true))])
        #expect(wide == [0xE1, 0x12, 0x34, 0x01])
        #expect(try TLV.decode(wide).first?.id == 0x1234)
    }

    @Test func integersTakeTheFewestBytesAndReadBackSigned() throws {
        let cases: [(Int64, [UInt8])] = [(0, [0]), (-1, [0xFF]), (127, [0x7F]), (128, [0x00, 0x80]), (-129, [0xFF, 0x7F]),
                                         (86_400, [0x00, 0x01, 0x51, 0x80]), (Int64.min, [0x80, 0, 0, 0, 0, 0, 0, 0])]
        for (value, bytes) in cases {
            #expect(TLVValue.integer(value).bytes == bytes, "\(value)")
            #expect(TLV(kind: .resource, id: 0, value: bytes).integer == value)
        }
        #expect(TLV(kind: .resource, id: 0, value: [1, 2, 3]).integer == nil, "3 bytes is no integer size")
        #expect(TLV(kind: .resource, id: 0, value: [2]).boolean == nil)
        #expect(TLVValue.float(1.5).bytes == [0x3F, 0xC0, 0x00, 0x00])
        #expect(TLV(kind: .resource, id: 0, value: TLVValue.float(0.1).bytes).float == 0.1)
        #expect(TLVValue.objectLink(object: 1, instance: 0).bytes == [0, 1, 0, 0])
    }

    @Test func hostileInputIsRefusedWithWhereItWentWrong() throws {
        #expect(throws: TLVError.truncated(offset: 0)) { try TLV.decode([0xC8, 0x00]) }
        #expect(throws: TLVError.truncated(offset: 3)) { try TLV.decode([0xC1, 0x00, 0x01, 0xC8, 0x01, 0x05, 0x41]) }
        #expect(throws: TLVError.truncated(offset: 0)) { try TLV.decode([0xF8, 0x00]) }
        // An object instance inside an object instance, a resource inside a multiple resource.
        #expect(throws: TLVError.misplaced(offset: 2, kind: .objectInstance, inside: .objectInstance)) {
            try TLV.decode([0x05, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00])
        }
        #expect(throws: TLVError.misplaced(offset: 2, kind: .resource, inside: .multipleResource)) {
            try TLV.decode([0x83, 0x06, 0xC1, 0x00, 0x01])
        }
        #expect(try TLV.decode([]) == [])
    }

    /// Random bytes never crash the decoder, and whatever decodes encodes back to itself.
    @Test func randomBytesDecodeOrFailCleanlyAndWhatDecodesRoundTrips() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 33 }
        var decoded = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int(next() % 24)).map { _ in UInt8(truncatingIfNeeded: next()) }
            guard let entries = try? TLV.decode(bytes) else { continue }
            decoded += 1
            #expect(try TLV.decode(TLV.encode(entries)) == entries)
        }
        #expect(decoded > 100)
    }
}
