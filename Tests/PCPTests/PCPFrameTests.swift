import Testing
@testable import PCP

@Suite struct PCPFrameTests {
    @Test func startMarkerIsFFFE() {
        #expect(PCPFrame.startMarker == 0xFFFE)
    }
}
