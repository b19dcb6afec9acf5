import Foundation
import Testing
import TestSupport
@testable import Config

@Suite struct SecretFileTests {
    @Test func secretFileMustBePrivate() {
        let dir = TemporaryDirectory()
        for mode in [0o640, 0o604, 0o644, 0o660, 0o602] {
            let path = dir.write("secret-\(mode)", "s\n", mode: mode)
            do {
                _ = try SecretFile.read(path)
                Issue.record("mode \(String(mode, radix: 8)) accepted")
            } catch {
                #expect(error.fix == "run `chmod 600 \(path)`")
                #expect(error.problem.contains("mode \(String(mode, radix: 8))"))
            }
        }
        #expect((try? SecretFile.read(dir.write("ro", "s", mode: 0o400)))?.value == "s")
    }

    @Test func contentsAndBadFiles() throws {
        let dir = TemporaryDirectory()
        #expect(try SecretFile.read(dir.write("a", "abc\r\n", mode: 0o600)).value == "abc")
        #expect(try SecretFile.read(dir.write("b", "abc", mode: 0o600)).value == "abc")
        #expect(try SecretFile.read(dir.write("c", " a b \n\n", mode: 0o600)).value == " a b ")
        #expect(throws: SecretFile.Problem.self) { try SecretFile.read(dir.write("d", "\n", mode: 0o600)) }
        #expect(throws: SecretFile.Problem.self) {
            try SecretFile.read(dir.write("e", String(repeating: "x", count: SecretFile.maxBytes + 1), mode: 0o600))
        }
        #expect(throws: SecretFile.Problem.self) { try SecretFile.read(dir.file("missing")) }
        #expect(throws: SecretFile.Problem.self) { try SecretFile.read(dir.path) }
    }

    @Test func secretsNeverPrint() throws {
        let dir = TemporaryDirectory()
        let secret = try SecretFile.read(dir.write("k", "hunter2\n", mode: 0o600))
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
