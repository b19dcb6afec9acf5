import Testing
@testable import LwM2M
@testable import PCP

/// The NB-IoT trace's message, pure: RFC 7252 encoding, the fields a technician reads, PCP decoded.
@Suite struct CoAPTraceMessageTests {
    @Test func encodesAsRFC7252() {
        // A notification as edgegw-nbiot-sim sends it (bytes seen in the daemon test's trace).
        let notification = CoAPTraceMessage(type: 0, code: 0x45, messageId: 0xBEBF, token: [1],
                                            options: [.init(number: 12, value: [42]), .init(number: 6, value: [4])],
                                            payload: [0x01, 0x04, 0xD2])
        #expect(notification.encode().traceHex == "4145bebf016104612aff0104d2")
        // Long deltas and lengths: Size1 (60) after Uri-Path (11), a 20-byte path segment.
        let long = CoAPTraceMessage(type: 2, code: 0x44, messageId: 1, token: [],
                                    options: [.init(number: 11, value: Array(repeating: 0x61, count: 20)), .init(number: 60, value: [4, 0])],
                                    payload: [])
        #expect(long.encode().prefix(8).traceHex == "60440001bd07" + "6161")
        #expect(long.encode().suffix(4).traceHex == "d2240400")
    }

    @Test func fieldsAndPCP() {
        let frame = PCPCodec.frame(code: 0x13, data: [])
        let message = CoAPTraceMessage(type: 1, code: 0x02, messageId: 7, token: [0xAB, 0xCD],
                                       options: [.init(number: 11, value: Array("19".utf8)), .init(number: 15, value: Array("ep=1".utf8))],
                                       payload: frame)
        let fields = Dictionary(message.fields(fromDevice: false).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["type"] == "NON" && fields["code"] == "POST" && fields["mid"] == "7" && fields["token"] == "abcd")
        #expect(fields["options"] == "Uri-Path=19 Uri-Query=ep=1")
        #expect(fields["pcp"]?.hasPrefix("query device version (0x13)") == true, "\(fields)")
        #expect(CoAPTraceMessage.codeName(0x84) == "4.04" && CoAPTraceMessage.codeName(0x41) == "2.01")
        let plain = CoAPTraceMessage(type: 0, code: 0x45, messageId: 1, token: [], options: [], payload: [1, 2, 3])
        #expect(!plain.fields(fromDevice: true).contains { $0.name == "pcp" })
    }
}
