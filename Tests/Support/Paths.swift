import Foundation

/// Where things are, seen from a test.
public enum Paths {
    /// The package root (tests run with it as the working directory under `swift test`).
    public static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// The built `edgegw` binary next to the test bundle.
    public static var edgegwBinary: String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("edgegw").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("edgegw").path,
        ]
        for bundle in Bundle.allBundles {
            let path = bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("edgegw").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// True when a program is on PATH (a peer the Makefile installs).
    public static func hasProgram(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }
}
