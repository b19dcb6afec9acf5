import Foundation

/// Tests/PackageCacheTests/https_server.py (serves /pkg/NAME, ignores the query, logs one
/// `req …` line per request) with a throwaway CA and server certificate made by the openssl CLI:
/// the package server of the package-cache and upgrade tests.
public final class HTTPSPackageServer: @unchecked Sendable {
    public struct Request: Equatable, Sendable {
        public var path: String
        public var range: String?
        public var token: String?
        public var status: Int
        public var sent: Int
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public let directory: TemporaryDirectory
    public let port: UInt16
    public let child: ChildProcess
    public var caFile: String { directory.file("ca.pem") }

    public static let script = (Paths.packageRoot as NSString).appendingPathComponent("Tests/PackageCacheTests/https_server.py")

    /// Starts the server with `options` (https_server.py's flags) serving `files`.
    public init(files: [String: [UInt8]], options: [String] = []) async throws {
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
            throw Failure("package server did not start: \(child.text)")
        }
    }

    /// A child's own URL for `name` (its own query, as the platform gives each device).
    public func url(_ name: String, child: Int) -> String { "https://127.0.0.1:\(port)/pkg/\(name)?child=\(child)&sig=\(child * 7)" }

    /// Every request the server answered so far.
    public var requests: [Request] {
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
    public var bytesSent: Int { requests.reduce(0) { $0 + $1.sent } }

    /// SHA-256 hex of a served file, by the openssl CLI (for test targets without a crypto library).
    public func sha256(_ name: String) async throws -> String {
        let digest = try ChildProcess("openssl", ["dgst", "-sha256", "-r", directory.file("root/\(name)")])
        guard await digest.waitForExit(timeout: .seconds(30)) == 0 else { throw Failure("openssl dgst: \(digest.text)") }
        let hex = digest.text.prefix { $0.isHexDigit }
        guard hex.count == 64 else { throw Failure("openssl dgst: \(digest.text)") }
        return String(hex).lowercased()
    }

    public func stop() async { await child.stopAndWait() }

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
                throw Failure("openssl \(step.joined(separator: " ")) failed: \(process.text)")
            }
        }
    }
}
