import Foundation
import FuzzTargets
import Testing
import TestSupport

/// The committed fuzz corpora, replayed without instrumentation on every `make test`: each file
/// under `Tests/Fuzz/<target>/`, the reproducers in its `regressions/` included, goes through
/// the target's `run`, which traps when the parser crashes or breaks a property. A trap ends the
/// test run with the target's message; `edgegw-fuzz replay <target> Tests/Fuzz/<target>` names
/// the file (README, "Fuzzing").
@Suite struct FuzzCorpusTests {
    static var corpusRoot: String { Paths.packageRoot + "/Tests/Fuzz" }

    /// Every file under `folder`, hidden ones skipped, sorted.
    static func files(under folder: String) -> [String] {
        let names = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
        return names.filter { name in
            var isFolder: ObjCBool = false
            return !name.split(separator: "/").contains { $0.hasPrefix(".") }
                && FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder) && !isFolder.boolValue
        }.sorted().map { folder + "/" + $0 }
    }

    @Test func everyTargetHasACorpusAndEveryCorpusATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpusRoot).filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: Self.corpusRoot + "/" + name, isDirectory: &isFolder)
                && isFolder.boolValue
        }
        let names = FuzzTargetRegistry.all.map(\.name)
        #expect(Set(names).count == names.count, "two targets share a name: \(names)")
        #expect(Set(folders) == Set(names), "folders without a target: \(Set(folders).subtracting(names).sorted()); targets without a folder: \(Set(names).subtracting(folders).sorted())")
        for name in names {
            let seeds = Self.files(under: Self.corpusRoot + "/" + name).filter { !$0.contains("/regressions/") }
            #expect(!seeds.isEmpty, "Tests/Fuzz/\(name) has no seed")
        }
    }

    @Test(arguments: FuzzTargetRegistry.all.map(\.name))
    func corpusReplays(target name: String) throws {
        let target = try #require(FuzzTargetRegistry.target(named: name))
        FuzzTargetRegistry.prepare()
        let verbose = ProcessInfo.processInfo.environment["EDGEGW_FUZZ_VERBOSE"] != nil
        for file in Self.files(under: Self.corpusRoot + "/" + name) {
            let data = try #require(FileManager.default.contents(atPath: file), "cannot read \(file)")
            if verbose { print("\(name): \(file)") }
            target.run([UInt8](data))
        }
    }
}
