import Testing
@testable import CloudLink

@Suite struct MosquittoLibraryTests {
    @Test func linksLibmosquitto2() {
        #expect(MosquittoLibrary.version.hasPrefix("2."))
    }
}
