@testable import Gateway
import Testing

@Suite struct StderrLogHandlerTests {
    @Test func aLineNeverCarriesControlCharacters() {
        #expect(StderrLogHandler.oneLine("libcoap: ** \u{0}27.0.0.1:42712 <-> x\nnext\u{7F}") == "libcoap: **  27.0.0.1:42712 <-> x next ")
        #expect(StderrLogHandler.oneLine("plain line é") == "plain line é")
    }
}
