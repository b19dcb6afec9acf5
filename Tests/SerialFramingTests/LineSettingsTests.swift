import Testing
@testable import SerialFraming

@Suite struct LineSettingsTests {
    @Test func bitsPerCharacter() throws {
        #expect(try #require(LineSettings(baud: 9600)).bitsPerCharacter == 10)
        #expect(try #require(LineSettings(baud: 19200, parity: .even)).bitsPerCharacter == 11)
        #expect(try #require(LineSettings(baud: 1200, dataBits: 7, parity: .odd, stopBits: 2)).bitsPerCharacter == 11)
        #expect(try #require(LineSettings(baud: 300, dataBits: 5, stopBits: 1)).bitsPerCharacter == 7)
    }

    @Test func characterTimeAndGap() throws {
        let line = try #require(LineSettings(baud: 9600))
        // 10 bits at 9600 baud: 1.041666… ms.
        #expect(line.characterTime == .seconds(10) / 9600)
        #expect(abs(line.characterTime / .nanoseconds(1) - 1_041_666.67) < 1)
        // Modbus RTU's 3.5 characters: 3.646 ms.
        #expect(abs(line.gap(characters: 3.5) / .microseconds(1) - 3645.83) < 0.01)
        // 11 bits at 115,200 baud: 95.5 µs.
        let fast = try #require(LineSettings(baud: 115_200, parity: .even))
        #expect(abs(fast.characterTime / .nanoseconds(1) - 95_486.1) < 0.1)
    }

    @Test func outOfRangeIsNil() {
        #expect(LineSettings(baud: 0) == nil)
        #expect(LineSettings(baud: 9600, dataBits: 9) == nil)
        #expect(LineSettings(baud: 9600, dataBits: 4) == nil)
        #expect(LineSettings(baud: 9600, stopBits: 3) == nil)
        #expect(LineSettings(baud: 5_000_000) == nil)
    }

    @Test func aLayoutsGapOnALine() throws {
        let line = try #require(LineSettings(baud: 9600))
        let gapped = try FramingSpec(gapChars: 3.5)
        #expect(gapped.gap(on: line) == line.gap(characters: 3.5))
        let ended = try FramingSpec(end: [0x0D])
        #expect(ended.gap(on: line) == nil)
    }
}
