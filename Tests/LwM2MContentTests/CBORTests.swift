import LwM2MContent
import Testing

/// The CBOR subset against RFC 8949 Appendix A's examples, and hostile input.
struct CBORTests {
    static let examples: [(CBOR, String)] = [
        (.integer(0), "00"), (.integer(23), "17"), (.integer(24), "1818"), (.integer(100), "1864"),
        (.integer(1000), "1903e8"), (.integer(1_000_000), "1a000f4240"), (.integer(1_000_000_000_000), "1b000000e8d4a51000"),
        (.integer(Int64.max), "1b7fffffffffffffff"), (.integer(-1), "20"), (.integer(-10), "29"), (.integer(-100), "3863"),
        (.integer(-1000), "3903e7"), (.integer(Int64.min), "3b7fffffffffffffff"),
        (.float(0.0), "f90000"), (.float(-0.0), "f98000"), (.float(1.0), "f93c00"), (.float(1.1), "fb3ff199999999999a"),
        (.float(1.5), "f93e00"), (.float(65504.0), "f97bff"), (.float(100_000.0), "fa47c35000"),
        (.float(3.4028234663852886e+38), "fa7f7fffff"), (.float(1.0e+300), "fb7e37e43c8800759c"),
        (.float(5.960464477539063e-8), "f90001"), (.float(0.00006103515625), "f90400"), (.float(-4.0), "f9c400"),
        (.float(-4.1), "fbc010666666666666"), (.float(.infinity), "f97c00"), (.float(-.infinity), "f9fc00"),
        (.boolean(false), "f4"), (.boolean(true), "f5"), (.null, "f6"),
        (.bytes([]), "40"), (.bytes([1, 2, 3, 4]), "4401020304"), (.text(""), "60"), (.text("a"), "6161"),
        (.text("IETF"), "6449455446"), (.text("\"\\"), "62225c"), (.text("\u{00fc}"), "62c3bc"), (.text("\u{6c34}"), "63e6b0b4"),
        (.text("\u{10151}"), "64f0908591"),
        (.array([]), "80"), (.array([.integer(1), .integer(2), .integer(3)]), "83010203"),
        (.array([.integer(1), .array([.integer(2), .integer(3)]), .array([.integer(4), .integer(5)])]), "8301820203820405"),
        (.map([]), "a0"), (.map([.init(.integer(1), .integer(2)), .init(.integer(3), .integer(4))]), "a201020304"),
        (.map([.init(.text("a"), .integer(1)), .init(.text("b"), .array([.integer(2), .integer(3)]))]), "a26161016162820203"),
    ]

    @Test func theRFCsExamplesEncodeAndDecodeAsPrinted() throws {
        for (item, printed) in Self.examples {
            #expect(item.encoded == hex(printed), "\(item)")
            #expect(try CBOR.decode(hex(printed)) == item, "\(printed)")
        }
    }

    @Test func wideFormsAndIndefiniteLengthsAreRead() throws {
        // Not the shortest form, but CBOR: a float written wider than needed, a small integer in 8 bytes.
        #expect(try CBOR.decode(hex("fb3ff8000000000000")) == .float(1.5))
        #expect(try CBOR.decode(hex("fa3fc00000")) == .float(1.5))
        #expect(try CBOR.decode(hex("1b0000000000000001")) == .integer(1))
        #expect(try CBOR.decode(hex("9f018202039f0405ffff"))
            == .array([.integer(1), .array([.integer(2), .integer(3)]), .array([.integer(4), .integer(5)])]))
        #expect(try CBOR.decode(hex("bf61610161629f0203ffff"))
            == .map([.init(.text("a"), .integer(1)), .init(.text("b"), .array([.integer(2), .integer(3)]))]))
        #expect(try CBOR.decode(hex("5f42010243030405ff")) == .bytes([1, 2, 3, 4, 5]))
        #expect(try CBOR.decode(hex("7f657374726561646d696e67ff")) == .text("streaming"))
        // A tag is read through: 1(1363896240) is the integer.
        #expect(try CBOR.decode(hex("c11a514b67b0")) == .integer(1_363_896_240))
        #expect(try CBOR.decode(hex("f7")) == .null)
        if case .float(let nan) = try CBOR.decode(hex("f97e00")) { #expect(nan.isNaN) } else { Issue.record("NaN not read") }
    }

    @Test func hostileInputIsRefusedWithItsCause() {
        let cases: [(String, CBORError)] = [
            ("", .truncated(offset: 0)),
            ("18", .truncated(offset: 0)),
            ("1bffffffffffffffff", .integerOutOfRange(offset: 0)),
            ("3bffffffffffffffff", .integerOutOfRange(offset: 0)),
            // A string, an array and a map each claiming more than is left.
            ("5affffffff00", .truncated(offset: 0)),
            ("9bffffffffffffffff", .truncated(offset: 0)),
            ("a2010203", .truncated(offset: 0)),
            ("62c328", .invalidUTF8(offset: 0)),
            ("0000", .trailingBytes(offset: 1)),
            ("1c", .unsupported(offset: 0, initialByte: 0x1C)),
            ("ff", .unsupported(offset: 0, initialByte: 0xFF)),
            ("f0", .unsupported(offset: 0, initialByte: 0xF0)),
            ("9f01", .truncated(offset: 0)),
            // An indefinite text string whose chunk is a byte string.
            ("7f4101ff", .unsupported(offset: 1, initialByte: 0x41)),
            ("bf01ff", .truncated(offset: 0)),
        ]
        for (printed, expected) in cases {
            #expect(throws: expected, "\(printed)") { try CBOR.decode(hex(printed)) }
        }
    }

    @Test func nestingIsBounded() throws {
        let deep = [UInt8](repeating: 0x81, count: CBOR.maxDepth) + [0x00]
        #expect(throws: Never.self) { try CBOR.decode(deep) }
        #expect(throws: CBORError.tooDeep(offset: CBOR.maxDepth)) { try CBOR.decode([0x81] + deep) }
        // Tags nest too: a million of them must not recurse a million deep.
        #expect(throws: CBORError.tooDeep(offset: CBOR.maxDepth)) { try CBOR.decode([UInt8](repeating: 0xC1, count: 1_000_000) + [0]) }
        #expect(throws: CBORError.tooDeep(offset: CBOR.maxDepth)) { try CBOR.decode([UInt8](repeating: 0x9F, count: 100_000)) }
    }
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
}
