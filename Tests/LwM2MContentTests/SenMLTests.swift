import LwM2MContent
import Testing

/// SenML-JSON and SenML-CBOR against RFC 8428's examples (§5.1, and §6's CBOR of §5.1.2's
/// third example, byte for byte), round trips, and hostile input.
struct SenMLTests {
    /// RFC 8428 §5.1.2, the example with base time, base unit and base version.
    static let voltageAndCurrentJSON = """
        [
             {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
              "bu":"A","bver":5,
              "n":"voltage","u":"V","v":120.1},
             {"n":"current","t":-5,"v":1.2},
             {"n":"current","t":-4,"v":1.3},
             {"n":"current","t":-3,"v":1.4},
             {"n":"current","t":-2,"v":1.5},
             {"n":"current","t":-1,"v":1.6},
             {"n":"current","v":1.7}
        ]
        """

    /// RFC 8428 §6: the same pack in CBOR (where the last record writes its time, 0).
    static let voltageAndCurrentCBOR = """
        87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
        22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
        66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
        72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
        f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
        74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
        33 33 33
        """

    static var voltageAndCurrent: [SenMLRecord] {
        var records = [SenMLRecord(baseName: "urn:dev:ow:10e2073a0108006:", baseTime: .float(1.276020076001e+09), baseUnit: "A",
                                   baseVersion: 5, name: "voltage", unit: "V", value: .number(.float(120.1)))]
        for (time, value) in [(-5, 1.2), (-4, 1.3), (-3, 1.4), (-2, 1.5), (-1, 1.6)] {
            records.append(SenMLRecord(name: "current", value: .number(.float(value)), time: .integer(Int64(time))))
        }
        records.append(SenMLRecord(name: "current", value: .number(.float(1.7))))
        return records
    }

    @Test func theRFCsCBORExampleDecodesToItsJSONExampleAndEncodesByteForByte() throws {
        var withTimeZero = Self.voltageAndCurrent
        withTimeZero[6].time = .integer(0)
        #expect(try SenMLCBOR.decode(hex(Self.voltageAndCurrentCBOR)) == withTimeZero)
        #expect(SenMLCBOR.encode(withTimeZero) == hex(Self.voltageAndCurrentCBOR))
        #expect(try SenMLJSON.decode(Array(Self.voltageAndCurrentJSON.utf8)) == Self.voltageAndCurrent)
    }

    @Test func theRFCsJSONExamplesDecode() throws {
        // §5.1.1 a single datapoint.
        #expect(try SenMLJSON.decode(Array(#"[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]"#.utf8))
            == [SenMLRecord(name: "urn:dev:ow:10e2073a01080063", unit: "Cel", value: .number(.float(23.1)))])
        // §5.1.2 multiple datapoints.
        let multiple = #"[{"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},{"n":"current","u":"A","v":1.2}]"#
        #expect(try SenMLJSON.decode(Array(multiple.utf8)) == [
            SenMLRecord(baseName: "urn:dev:ow:10e2073a01080063:", name: "voltage", unit: "V", value: .number(.float(120.1))),
            SenMLRecord(name: "current", unit: "A", value: .number(.float(1.2))),
        ])
        // §5.1.5 multiple data types: "aGkgCg" is "hi\n" after a space.
        let types = """
            [{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
             {"n":"label","vs":"Machine Room"},{"n":"open","vb":false},{"n":"nfc-reader","vd":"aGkgCg"}]
            """
        let records = try SenMLJSON.decode(Array(types.utf8))
        #expect(records.map(\.value) == [.number(.float(23.1)), .string("Machine Room"), .boolean(false), .data(Array("hi \n".utf8))])
        // And back: the same text, compact.
        let compact = #"[{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},{"n":"label","vs":"Machine Room"},"#
            + #"{"n":"open","vb":false},{"n":"nfc-reader","vd":"aGkgCg"}]"#
        #expect(try SenMLJSON.encode(records) == Array(compact.utf8))
    }

    @Test func everyFieldAndValueRoundTripsThroughBothRepresentations() throws {
        let records = [
            SenMLRecord(baseName: "/3/0/", baseTime: .integer(1_700_000_000), baseUnit: "s", baseValue: .float(0.5),
                        baseSum: .integer(-7), baseVersion: 10, name: "0", unit: "Cel", value: .number(.integer(Int64.min)),
                        sum: .float(-1e-300), time: .float(-0.25), updateTime: .integer(60)),
            SenMLRecord(name: "1", value: .string("quote \" backslash \\ newline \n tab \t bell \u{07} 水 \u{1F600}")),
            SenMLRecord(name: "2", value: .boolean(true)),
            SenMLRecord(name: "3", value: .data((0...255).map { UInt8($0) })),
            SenMLRecord(name: "4", value: .data([])),
            SenMLRecord(name: "5", value: .objectLink("3:0")),
            SenMLRecord(name: "6", value: .number(.integer(Int64.max))),
            SenMLRecord(name: "7", value: .number(.float(123_456.789e10))),
        ]
        #expect(try SenMLCBOR.decode(SenMLCBOR.encode(records)) == records)
        #expect(try SenMLJSON.decode(SenMLJSON.encode(records)) == records)
        for length in 0...9 {
            let bytes = (0..<length).map { UInt8($0 * 37 & 0xFF) }
            let record = [SenMLRecord(name: "d", value: .data(bytes))]
            #expect(try SenMLJSON.decode(SenMLJSON.encode(record)) == record, "\(length) bytes")
        }
        #expect(throws: SenMLError.notFinite(record: 0)) { try SenMLJSON.encode([SenMLRecord(value: .number(.float(.nan)))]) }
    }

    @Test func lwm2mResourcesAreWrittenUnderTheInstancesBaseNameAndResolveBack() throws {
        let resources: [(id: UInt16, value: TLVValue)] = [
            (0, .string("coaps://192.0.2.1:5684")), (1, .boolean(false)), (2, .integer(0)), (3, .opaque(Array("8612".utf8))),
            (4, .opaque([])), (5, .opaque([0x00, 0xFF, 0x10])), (10, .integer(123)), (11, .objectLink(object: 2, instance: 65535)),
            (12, .float(2.5)),
        ]
        let records = LwM2MSenML.records(object: 0, instance: 1, resources: resources)
        #expect(records.first?.baseName == "/0/1/" && records.dropFirst().allSatisfy { $0.baseName == nil })
        #expect(records.map(\.name) == ["0", "1", "2", "3", "4", "5", "10", "11", "12"])
        let expected = resources.map { SenMLResource(path: [0, 1, $0.id], value: $0.value) }
        #expect(try LwM2MSenML.resources(SenMLCBOR.decode(SenMLCBOR.encode(records))) == expected)
        #expect(try LwM2MSenML.resources(SenMLJSON.decode(SenMLJSON.encode(records))) == expected)
        let json = String(decoding: try SenMLJSON.encode(records), as: UTF8.self)
        #expect(json.hasPrefix(#"[{"bn":"/0/1/","n":"0","vs":"coaps://192.0.2.1:5684"},{"n":"1","vb":false},{"n":"2","v":0}"#))
        #expect(json.contains(#"{"n":"5","vd":"AP8Q"}"#) && json.contains(#"{"n":"11","vlo":"2:65535"}"#))
        // A base name changes for the records after it; a multiple resource's instance is a fourth id.
        let two = [SenMLRecord(baseName: "/1/0/", name: "1", value: .number(.integer(300))),
                   SenMLRecord(baseName: "/3/0/", name: "7/1", value: .number(.integer(5000)))]
        #expect(try LwM2MSenML.resources(two) == [SenMLResource(path: [1, 0, 1], value: .integer(300)),
                                                  SenMLResource(path: [3, 0, 7, 1], value: .integer(5000))])
        for name in ["0", "/0/1/", "/1", "/1/0", "/0/+1/2", "/0/1/65536", "/0/1/2/3/4", "/a/1"] {
            #expect(throws: SenMLError.notAnLwM2MPath(record: 0, name: name)) {
                try LwM2MSenML.resources([SenMLRecord(name: name, value: .boolean(true))])
            }
        }
        #expect(throws: SenMLError.wrongType(record: 0, label: "vlo")) {
            try LwM2MSenML.resources([SenMLRecord(name: "/0/1/2", value: .objectLink("3"))])
        }
    }

    @Test func malformedPacksAreRefusedWithTheirCause() throws {
        let json: [(String, SenMLError)] = [
            ("", .json(offset: 0)), ("[", .json(offset: 1)), ("{}", .notAPack), ("[1]", .notARecord(record: 0)),
            (#"[{"n":1}]"#, .wrongType(record: 0, label: "n")), (#"[{"v":"1"}]"#, .wrongType(record: 0, label: "v")),
            (#"[{"vb":null}]"#, .wrongType(record: 0, label: "vb")), (#"[{"bver":1.5}]"#, .wrongType(record: 0, label: "bver")),
            (#"[{"n":"a","n":"b"}]"#, .duplicateField(record: 0, label: "n")), (#"[{"v":1,"vs":"a"}]"#, .twoValues(record: 0)),
            (#"[{},{"vd":"a"}]"#, .notBase64URL(record: 1)), (#"[{"vd":"a+"}]"#, .notBase64URL(record: 0)),
            (#"[{"vd":"aGkgCh"}]"#, .notBase64URL(record: 0)), (#"[{"new_":1}]"#, .mustUnderstand(record: 0, label: "new_")),
            (#"[{"v":01}]"#, .json(offset: 6)), (#"[{"v":1.}]"#, .json(offset: 6)), (#"[{"v":1e999}]"#, .json(offset: 6)),
            (#"[{"vs":"\x"}]"#, .json(offset: 7)), (#"[{"vs":"\ud800"}]"#, .json(offset: 7)), ("[]x", .json(offset: 2)),
            (String(repeating: "[", count: 100), .json(offset: 16)),
        ]
        for (text, expected) in json {
            #expect(throws: expected, "\(text)") { try SenMLJSON.decode(Array(text.utf8)) }
        }
        // Unknown fields without "_" are ignored, in both representations.
        #expect(try SenMLJSON.decode(Array(#"[{"n":"a","new":[1,{"x":null}],"vb":true}]"#.utf8)) == [SenMLRecord(name: "a", value: .boolean(true))])
        #expect(try SenMLCBOR.decode(hex("81a3 0061 61 1863 f6 04f5")) == [SenMLRecord(name: "a", value: .boolean(true))])
        let cbor: [(String, SenMLError)] = [
            ("a0", .notAPack), ("8101", .notARecord(record: 0)), ("81a1 00 01", .wrongType(record: 0, label: "n")),
            ("81a1 02 f6", .wrongType(record: 0, label: "v")), ("81a2 0201 0202", .duplicateField(record: 0, label: "v")),
            ("81a2 0201 04f5", .twoValues(record: 0)), ("81a1 08 6161", .wrongType(record: 0, label: "vd")),
            ("81a1 626e5f 01", .mustUnderstand(record: 0, label: "n_")), ("81a1 f4 01", .wrongType(record: 0, label: "key")),
            ("81a1 00", .cbor(.truncated(offset: 1))),
        ]
        for (printed, expected) in cbor {
            #expect(throws: expected, "\(printed)") { try SenMLCBOR.decode(hex(printed)) }
        }
    }

    /// Random bytes and mutations of valid packs: each is a pack or a typed error, never a crash.
    @Test func mutatedAndRandomInputNeverCrashes() {
        var generator = SplitMix64(seed: 0x5E_4D_1)
        let resources: [(id: UInt16, value: TLVValue)] = [(0, .string("coaps://[::1]:5684")), (3, .opaque([1, 2, 3])), (10, .integer(123))]
        let records = LwM2MSenML.records(object: 0, instance: 1, resources: resources)
        let seeds = [SenMLCBOR.encode(records), (try? SenMLJSON.encode(records)) ?? [], hex(Self.voltageAndCurrentCBOR),
                     Array(Self.voltageAndCurrentJSON.utf8)]
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            if round % 10 == 9 {
                bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                for _ in 0...(generator.next() % 4) where !bytes.isEmpty {
                    let at = Int(generator.next() % UInt64(bytes.count))
                    switch generator.next() % 3 {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: at)
                    }
                }
            }
            if (try? SenMLCBOR.decode(bytes)) != nil { decoded += 1 }
            if (try? SenMLJSON.decode(bytes)) != nil { decoded += 1 }
            _ = try? LwM2MSenML.resources(SenMLCBOR.decode(bytes))
        }
        // Some mutations keep a pack valid (a changed digit); most do not.
        #expect(decoded > 0 && decoded < 20_000)
    }
}

/// A small deterministic generator, so a failing input can be found again.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
