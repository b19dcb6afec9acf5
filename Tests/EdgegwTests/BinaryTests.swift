import Foundation
import Testing
import TestSupport

@Suite struct BinaryTests {
    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: Paths.edgegwBinary))
    }
}
