import Testing
@testable import LwM2M

@Suite struct CoAPLibraryTests {
    @Test func linksLibcoap43WithDTLS() {
        #expect(CoAPLibrary.version.hasPrefix("4.3"))
        #expect(CoAPLibrary.dtlsSupported)
        // The GnuTLS build accepts both cipher suites the NB-IoT modules use (platform-notes).
        #expect(CoAPLibrary.tlsLibrary == "GnuTLS")
    }
}
