import Foundation
import FuzzTargets

// Two builds of one program (scripts/fuzz.sh, docs in README "Fuzzing"):
//
// - with libFuzzer (`-sanitize=fuzzer,address -DFUZZING`): `main` hands libFuzzer's driver the
//   target that `EDGEGW_FUZZ_TARGET` names; libFuzzer's own options follow on the command line
//   (`edgegw-fuzz list` still lists the targets).
//   SwiftPM links an executable's `main` to its `@main` type, so libFuzzer's `main` is not used;
//   its driver is entered through `LLVMFuzzerRunDriver` instead.
// - without: `edgegw-fuzz list` and `edgegw-fuzz replay <target> <files or folders…>`, the same
//   `run` without instrumentation, to reproduce a crash by hand.

#if FUZZING

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target, read once before the first input.
let fuzzedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["EDGEGW_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargetRegistry.target(named: name) else {
        let names = FuzzTargetRegistry.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("edgegw-fuzz: set EDGEGW_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzedTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main struct EdgegwFuzz {
    static func main() {
        // scripts/fuzz.sh asks the instrumented binary itself which targets it has.
        if CommandLine.arguments.dropFirst().first == "list" {
            for target in FuzzTargetRegistry.all { print("\(target.name) \(target.maxInputBytes) \(target.summary)") }
            exit(0)
        }
        _ = fuzzedTarget
        FuzzTargetRegistry.prepare()
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
}

#else

@main struct EdgegwFuzz {
    static let usage = """
        usage: edgegw-fuzz list
               edgegw-fuzz replay <target> <file or folder>...
        """

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "list":
            for target in FuzzTargetRegistry.all {
                print("\(target.name) \(target.maxInputBytes) \(target.summary)")
            }
        case "replay" where arguments.count >= 3:
            guard let target = FuzzTargetRegistry.target(named: arguments[1]) else {
                fail("no target \(arguments[1]); `edgegw-fuzz list` names them")
            }
            FuzzTargetRegistry.prepare()
            var count = 0
            for path in arguments.dropFirst(2) {
                for file in files(at: path) {
                    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
                    print("\(target.name): \(file) (\(data.count) bytes)")
                    target.run([UInt8](data))
                    count += 1
                }
            }
            print("\(target.name): \(count) inputs, no failure")
        default:
            fail(usage)
        }
    }

    /// A file, or the files under a folder (sorted, hidden ones skipped).
    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { fail("\(path) does not exist") }
        guard isFolder.boolValue else { return [path] }
        let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
        return names.filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }.sorted().compactMap { name in
            var isSub: ObjCBool = false
            let full = path + "/" + name
            return FileManager.default.fileExists(atPath: full, isDirectory: &isSub) && !isSub.boolValue ? full : nil
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("edgegw-fuzz: \(message)\n".utf8))
        exit(2)
    }
}

#endif
