import Foundation
import Testing
import TestSupport
@testable import Config

/// A file replaced whole: the mode asked for whatever the umask, the old content until the rename,
/// no temporary file left behind.
@Suite struct AtomicFileTests {
    @Test func theFileGetsExactlyTheModeAskedForAndNoTemporaryIsLeft() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.write("list.csv", "old\n", mode: 0o644)
        let previous = umask(0)
        defer { umask(previous) }
        try AtomicFile.replace(path, with: Array("new\n".utf8), mode: 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(AtomicFile.mode(of: path) == 0o600)
        try AtomicFile.replace(path, with: Array("newer\n".utf8), mode: 0o640)
        #expect(AtomicFile.mode(of: path) == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["list.csv"])
        #expect(AtomicFile.mode(of: tmp.file("missing")) == nil)
    }

    @Test func aTemporaryLeftWiderByAnEarlierRunIsNarrowedBeforeAnythingIsWrittenToIt() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.file("export.csv")
        tmp.write("export.csv.tmp-\(getpid())", "stale\n", mode: 0o666)
        try AtomicFile.replace(path, with: Array("keys\n".utf8), mode: 0o600)
        #expect(AtomicFile.mode(of: path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keys\n")
    }

    @Test func aDirectoryThatDoesNotExistIsAProblemNamingThePath() {
        #expect(throws: SecretFile.Problem.self) {
            try AtomicFile.replace("/nonexistent-edgegw/out.csv", with: [1], mode: 0o600)
        }
    }
}
