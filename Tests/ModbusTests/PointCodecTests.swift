import GatewayCore
import Testing
import TestSupport
@testable import Modbus

@Suite struct PointCodecTests {
    @Test func thirtyTwoBitOrdersByTheBook() {
        let bytes: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        #expect(RegisterLayout.registers(bigEndian: bytes, order: .abcd) == [0x1122, 0x3344])
        #expect(RegisterLayout.registers(bigEndian: bytes, order: .cdab) == [0x3344, 0x1122])
        #expect(RegisterLayout.registers(bigEndian: bytes, order: .badc) == [0x2211, 0x4433])
        #expect(RegisterLayout.registers(bigEndian: bytes, order: .dcba) == [0x4433, 0x2211])
        for order in ModbusByteOrder.allCases {
            let words = RegisterLayout.registers(bigEndian: bytes, order: order)
            #expect(PointCodec.decode(point: point(type: .uint32, order: order), registers: words[...]) == .success(.int(0x1122_3344)))
        }
    }

    @Test func sixtyFourBitOrders() {
        let p = point(type: .uint64, order: .cdab)
        #expect(PointCodec.decode(point: p, registers: [0x7788, 0x5566, 0x3344, 0x1122]) == .success(.int(0x1122_3344_5566_7788)))
        let q = point(type: .uint64, order: .badc)
        #expect(PointCodec.decode(point: q, registers: [0x2211, 0x4433, 0x6655, 0x8877]) == .success(.int(0x1122_3344_5566_7788)))
    }

    @Test(arguments: ModbusByteOrder.allCases)
    func everyTypeInEveryOrderDecodesAndEncodes(order: ModbusByteOrder) {
        for sample in RegisterLayout.samples {
            let p = point(type: sample.type, order: order)
            let words = RegisterLayout.registers(bigEndian: sample.bytes, order: order)
            #expect(words.count == sample.type.registerCount(stringLength: 1))
            #expect(PointCodec.decode(point: p, registers: words[...]) == .success(sample.json), "\(sample.type) \(order)")
            #expect(PointCodec.encode(point: p, value: sample.json) == .success(words), "\(sample.type) \(order)")
        }
    }

    @Test func uint64AboveInt64MaxStaysAnExactInteger() {
        let p = point(type: .uint64)
        #expect(PointCodec.decode(point: p, registers: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]) == .success(.uint(UInt64.max)))
        #expect(PointCodec.decode(point: p, registers: [0x8000, 0, 0, 0]) == .success(.uint(1 << 63)))
        #expect(PointCodec.decode(point: p, registers: [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF]) == .success(.int(Int64.max)))
        // And back: the cloud may set any uint64.
        #expect(PointCodec.encode(point: p, value: .uint(UInt64.max)) == .success([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]))
        #expect(PointCodec.encode(point: point(type: .int64), value: .uint(UInt64.max))
            == .failure(.outOfRange(value: "18446744073709551615", type: .int64)))
    }

    @Test func scaleAndOffset() {
        let p = point(type: .int16, scale: 0.1, offset: -40)
        guard case .success(.double(let v)) = PointCodec.decode(point: p, registers: [650]) else {
            Issue.record("not a double"); return
        }
        #expect(abs(v - 25.0) < 1e-9)
        #expect(PointCodec.encode(point: p, value: .double(25)) == .success([650]))
        #expect(PointCodec.encode(point: p, value: .int(-4000)) == .failure(.outOfRange(value: "-4000.0", type: .int16)))
    }

    @Test func integerRangesAreChecked() {
        #expect(PointCodec.encode(point: point(type: .uint16), value: .int(65536)) == .failure(.outOfRange(value: "65536", type: .uint16)))
        #expect(PointCodec.encode(point: point(type: .uint16), value: .int(-1)) == .failure(.outOfRange(value: "-1", type: .uint16)))
        #expect(PointCodec.encode(point: point(type: .int16), value: .int(-32768)) == .success([0x8000]))
        #expect(PointCodec.encode(point: point(type: .int32), value: .int(2_147_483_648)) == .failure(.outOfRange(value: "2147483648", type: .int32)))
        #expect(PointCodec.encode(point: point(type: .uint16), value: .string("7")) == .failure(.wrongType(expected: "a number", got: "string")))
    }

    @Test func bitsOfARegister() {
        #expect(PointCodec.decode(point: point(type: .bit, bit: 0), registers: [0x0001]) == .success(.bool(true)))
        #expect(PointCodec.decode(point: point(type: .bit, bit: 15), registers: [0x8000]) == .success(.bool(true)))
        #expect(PointCodec.decode(point: point(type: .bit, bit: 3), registers: [0xFFF7]) == .success(.bool(false)))
        #expect(PointCodec.encodeBit(.int(1)) == .success(true))
        #expect(PointCodec.encodeBit(.int(2)) == .failure(.wrongType(expected: "a boolean (or 0/1)", got: "integer")))
    }

    @Test func asciiStrings() {
        let p = point(type: .string, length: 4)
        // "EM-340" then NULs: 'E''M' '-''3' '4''0' 0 0
        #expect(PointCodec.decode(point: p, registers: [0x454D, 0x2D33, 0x3430, 0x0000]) == .success(.string("EM-340")))
        #expect(PointCodec.encode(point: p, value: .string("EM-340")) == .success([0x454D, 0x2D33, 0x3430, 0x0000]))
        let swapped = point(type: .string, order: .badc, length: 2)
        #expect(PointCodec.decode(point: swapped, registers: [0x4241, 0x0043]) == .success(.string("ABC")))
        #expect(PointCodec.encode(point: swapped, value: .string("ABC")) == .success([0x4241, 0x0043]))
        #expect(PointCodec.encode(point: p, value: .string("123456789")) == .failure(.tooLong(bytes: 9, max: 8)))
        #expect(PointCodec.encode(point: p, value: .string("é")) == .failure(.notASCII))
        // Bytes that are not printable ASCII do not reach the cloud as they are.
        #expect(PointCodec.decode(point: point(type: .string, length: 1), registers: [0x41FF]) == .success(.string("A?")))
    }

    @Test func float32ReachesTheCloudAsTheMeterMeantIt() {
        let bits = Float(230.1).bitPattern
        #expect(PointCodec.decode(point: point(type: .float32), registers: [UInt16(bits >> 16), UInt16(bits & 0xFFFF)])
            == .success(.double(230.1)))
    }

    /// The largest float32 a meter can hold reads as 3.4028235e38, its shortest decimal, a little
    /// above the float as a double: written back, it is that float again, not out of range (found
    /// by the modbus-points fuzz target; reproducer in Tests/Fuzz/modbus-points/regressions/).
    @Test func theLargestFloat32ReadIsWrittenBack() {
        for value in [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude] {
            let bits = value.bitPattern
            let words: [UInt16] = [UInt16(bits >> 16), UInt16(bits & 0xFFFF)]
            let p = point(type: .float32)
            guard case .success(let json) = PointCodec.decode(point: p, registers: words[...]) else {
                Issue.record("\(value) does not decode")
                continue
            }
            #expect(PointCodec.encode(point: p, value: json) == .success(words), "\(json)")
        }
        #expect(PointCodec.encode(point: point(type: .float32), value: .double(3.5e38)) == .failure(.outOfRange(value: "3.5e+38", type: .float32)))
    }

    @Test func decimalScalesGiveTheNearestDecimal() {
        #expect(PointCodec.scaled(5005, by: 0.01) == 50.05)
        #expect(PointCodec.scaled(2301, by: 0.1) == 230.1)
        #expect(PointCodec.scaled(7, by: 2.5) == 17.5)
        #expect(PointCodec.scaled(3, by: 0.3) == 3 * 0.3)
    }

    @Test func shortReadsAndNaNAreErrors() {
        #expect(PointCodec.decode(point: point(type: .float64), registers: [1, 2]) == .failure(.short(needed: 4, got: 2)))
        let nan = Float.nan.bitPattern
        #expect(PointCodec.decode(point: point(type: .float32), registers: [UInt16(nan >> 16), UInt16(nan & 0xFFFF)]) == .failure(.notFinite))
    }
}

/// Whatever a slave sends, decoding gives a value or a typed error, never a crash, and text
/// reaching the cloud is printable ASCII.
@Suite struct PointCodecRandomInputTests {
    @Test func randomRegistersNeverBreakDecoding() {
        var rng = SplitMix64(seed: 0xF1E1D)
        for _ in 0..<20_000 {
            let type = ModbusDataType.allCases[Int(rng.next() % UInt64(ModbusDataType.allCases.count))]
            let order = ModbusByteOrder.allCases[Int(rng.next() % 4)]
            let length = 1 + Int(rng.next() % 8)
            let p = point(type: type, order: order, bit: Int(rng.next() % 16), length: length,
                          scale: [1, 0.1, -3, 1e-6][Int(rng.next() % 4)], offset: [0, 5, -1e9][Int(rng.next() % 3)])
            let words = (0..<Int(rng.next() % 10)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
            switch PointCodec.decode(point: p, registers: words[...]) {
            case .success(.string(let text)):
                #expect(text.utf8.allSatisfy { $0 == 0x09 || (0x20..<0x7F).contains($0) || $0 == 0x7F })
            case .success(.double(let value)):
                #expect(value.isFinite)
            case .success, .failure:
                break
            }
        }
    }
}
