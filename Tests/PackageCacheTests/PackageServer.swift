import Crypto
import Foundation
import GatewayCore
import Logging
import PackageCache
import Store
import TestSupport

/// https_server.py with a throwaway CA and server certificate made by the openssl CLI.
final class PackageServer: @unchecked Sendable {
    struct Request: Equatable {
        var path: String
        var range: String?
        var token: String?
        var status: Int
        var sent: Int
    }

    let directory: TemporaryDirectory
    let port: UInt16
    let child: ChildProcess
    var caFile: String { directory.file("ca.pem") }

    static let script = (Paths.packageRoot as NSString).appendingPathComponent("Tests/PackageCacheTests/https_server.py")

    /// Starts the server with `options` (https_server.py's flags) serving `files`.
    init(files: [String: [UInt8]], options: [String] = []) async throws {
        directory = TemporaryDirectory(prefix: "edgegw-pkgsrv")
        try await Self.makeCertificates(in: directory)
        let root = directory.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, bytes) in files {
            FileManager.default.createFile(atPath: (root as NSString).appendingPathComponent(name), contents: Data(bytes))
        }
        port = FreePort.next()
        child = try ChildProcess("python3", ["-u", Self.script, "--port", "\(port)", "--cert", directory.file("server.pem"),
                                             "--key", directory.file("server.key"), "--root", root] + options)
        guard await child.waitForOutput("ready \(port)") else {
            throw TestFailure("package server did not start: \(child.text)")
        }
    }

    func url(_ name: String, child: Int) -> String { "https://127.0.0.1:\(port)/pkg/\(name)?child=\(child)&sig=\(child * 7)" }

    /// Every request the server answered so far.
    var requests: [Request] {
        child.text.split(separator: "\n").compactMap { line -> Request? in
            guard line.hasPrefix("req ") else { return nil }
            var fields: [String: String] = [:]
            for part in line.split(separator: " ").dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            return Request(path: fields["path"] ?? "", range: fields["range"].flatMap { $0 == "-" ? nil : $0 },
                           token: fields["auth"].flatMap { $0 == "-" ? nil : $0 },
                           status: Int(fields["status"] ?? "") ?? 0, sent: Int(fields["sent"] ?? "") ?? 0)
        }
    }

    /// Package bytes the server sent (what crossed the uplink).
    var bytesSent: Int { requests.reduce(0) { $0 + $1.sent } }

    func stop() async { await child.stopAndWait() }

    private static func makeCertificates(in directory: TemporaryDirectory) async throws {
        let d = directory.path
        let ext = directory.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem", "-days", "2", "-subj", "/CN=edgegw test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key",
             "-CAcreateserial", "-out", "\(d)/server.pem", "-days", "2", "-extfile", ext],
        ]
        for step in steps {
            let process = try ChildProcess("openssl", step)
            guard await process.waitForExit(timeout: .seconds(30)) == 0 else {
                throw TestFailure("openssl \(step.joined(separator: " ")) failed: \(process.text)")
            }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic package bytes.
func packageBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
}

/// A cache on a store and state directory of its own (or given ones, for restarts).
func makeCache(server: PackageServer, state: TemporaryDirectory, caFile: String?? = .none, verifyTLS: Bool = true,
               maxBytes: Int64 = 64 << 20, readTimeout: Duration = .seconds(3)) throws -> (PackageCache, StateStore) {
    let store = try StateStore(directory: state.file("db"))
    let settings = PackageCache.Settings(stateDirectory: state.path, maxBytes: maxBytes,
                                         caFile: caFile ?? server.caFile, verifyTLS: verifyTLS,
                                         initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(400),
                                         connectTimeout: .seconds(3), readTimeout: readTimeout)
    let cache = try PackageCache(settings: settings, store: store, logger: Logger(label: "test.packages"))
    return (cache, store)
}
