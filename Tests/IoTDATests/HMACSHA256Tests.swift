import Testing
@testable import IoTDA

@Suite struct HMACSHA256Tests {
    /// RFC 4231, test case 2.
    @Test func matchesRFC4231() {
        #expect(HMACSHA256.hex(key: "Jefe", message: "what do ya want for nothing?")
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
