import Testing
@testable import DeviceCodec

@Suite struct DeviceCodecInfoTests {
    @Test func bigEndianOnly() {
        #expect(DeviceCodecInfo.byteOrder == "big-endian")
    }
}
