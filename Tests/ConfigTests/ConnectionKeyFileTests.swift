import Config
import Foundation
import Testing
import TestSupport

struct ConnectionKeyFileTests {
    @Test func keysRoundTripThroughAFileOnlyItsOwnerMayRead() throws {
        let directory = TemporaryDirectory(prefix: "edgegw-keys")
        let path = directory.file("nbiot-keys")
        #expect(try ConnectionKeyFile.load(path).isEmpty, "no file yet: no keys")
        let keys = ["861234567890001": ConnectionKeyFile.generateKey(), "861234567890002": ConnectionKeyFile.generateKey()]
        #expect(keys.values.allSatisfy { $0.count == ConnectionKeyFile.keyBytes })
        #expect(keys["861234567890001"] != keys["861234567890002"])
        try ConnectionKeyFile.save(keys, to: path)
        #expect(try ConnectionKeyFile.load(path) == keys)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        // Replaced whole, nothing left beside it.
        try ConnectionKeyFile.save(["861234567890001": keys["861234567890001"] ?? []], to: path)
        #expect(try ConnectionKeyFile.load(path).count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["nbiot-keys"])
    }

    @Test func aFileWithCRLFLinesReadsTheSameKeys() throws {
        let directory = TemporaryDirectory(prefix: "edgegw-keys")
        let path = directory.file("nbiot-keys")
        let keys = ["861234567890001": ConnectionKeyFile.generateKey()]
        try ConnectionKeyFile.save(keys, to: path)
        let crlf = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n")
        FileManager.default.createFile(atPath: path, contents: Data(crlf.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try ConnectionKeyFile.load(path) == keys)
    }

    @Test func aFileOthersMayReadOrABadLineIsRefusedWithoutTheKey() throws {
        let directory = TemporaryDirectory(prefix: "edgegw-keys")
        let open = directory.write("open", "861234567890001,00112233445566778899AABBCCDDEEFF\n", mode: 0o644)
        #expect(throws: SecretFile.Problem.self) { try ConnectionKeyFile.load(open) }
        let bad = directory.write("bad", "# keys\n861234567890001,0011223344556677X899AABBCCDDEEFF\n", mode: 0o600)
        do {
            _ = try ConnectionKeyFile.load(bad)
            Issue.record("a bad line was taken")
        } catch {
            #expect(error.problem.contains("bad:2"))
            #expect(!error.description.contains("0011223344"))
        }
    }

    @Test func aDirectoryThatCannotBeWrittenIsAClearError() {
        #expect(throws: SecretFile.Problem.self) {
            try ConnectionKeyFile.save(["a": [1]], to: "/nonexistent-edgegw-dir/keys")
        }
    }
}
