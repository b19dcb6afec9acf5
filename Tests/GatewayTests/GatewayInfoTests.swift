import Testing
@testable import Gateway

@Suite struct GatewayInfoTests {
    @Test func versionIsSemantic() {
        #expect(GatewayInfo.version.split(separator: ".").count == 3)
    }
}
