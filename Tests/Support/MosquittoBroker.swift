import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real mosquitto broker on a free 127.0.0.1 port, playing the cloud's MQTT endpoint.
///
/// It asks for username/password from a password file (made with `mosquitto_passwd`) and
/// confines every device to `$oc/devices/{username}/#` with an ACL, so a client that sends the
/// wrong password or publishes outside its own topics is refused the way the platform would.
/// The broker drops to user `mosquitto` when started as root, so every file it reads is made
/// world-readable inside a temporary directory.
public final class MosquittoBroker: @unchecked Sendable {
    public struct User: Sendable {
        public var name: String
        public var password: String
        /// Topic filters this user may read and write besides `$oc/devices/{name}/#`.
        public var extraTopics: [String]

        public init(name: String, password: String, extraTopics: [String] = []) {
            self.name = name
            self.password = password
            self.extraTopics = extraTopics
        }

        /// A user that sees every device's topics, as the platform does.
        public static func platform(name: String = "platform", password: String) -> User {
            User(name: name, password: password, extraTopics: ["$oc/#"])
        }
    }

    public let port: UInt16
    public let tls: Bool
    /// Keeps subscriptions and queued QoS 1 messages of persistent sessions across a graceful
    /// stop and start (`stopGracefully()`), as a platform that never forgets what it acknowledged.
    public let persistent: Bool
    public let directory: TemporaryDirectory
    /// The CA that signed the broker's certificate (TLS brokers only).
    public private(set) var caFile: String?
    private var process: ChildProcess?

    /// Async because making the password file and certificates runs `mosquitto_passwd` and
    /// `openssl`: their exits are awaited, never waited for on a concurrency thread.
    public init(users: [User], tls: Bool = false, persistent: Bool = false, port: UInt16 = FreePort.next()) async throws {
        self.port = port
        self.tls = tls
        self.persistent = persistent
        directory = TemporaryDirectory(prefix: "edgegw-mosquitto")
        chmod(directory.path, 0o755)
        try await writePasswords(users)
        var acl = ""
        for user in users where !user.extraTopics.isEmpty {
            acl += "user \(user.name)\n" + user.extraTopics.map { "topic readwrite \($0)\n" }.joined()
        }
        acl += "\npattern readwrite $oc/devices/%u/#\n"
        directory.write("acl", acl, mode: 0o644)
        var config = """
            listener \(port) 127.0.0.1
            allow_anonymous false
            password_file \(directory.file("passwd"))
            acl_file \(directory.file("acl"))
            persistence \(persistent)
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            max_queued_messages 0
            max_inflight_messages 0

            """
        if persistent {
            // Written by the broker after it drops to user mosquitto.
            let database = directory.file("db")
            try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
            chmod(database, 0o777)
            config += "persistence_location \(database)/\nautosave_interval 0\n"
        }
        if tls {
            try await makeCertificates()
            config += """
                cafile \(directory.file("ca.crt"))
                certfile \(directory.file("server.crt"))
                keyfile \(directory.file("server.key"))
                tls_version tlsv1.2

                """
            caFile = directory.file("ca.crt")
        }
        directory.write("mosquitto.conf", config, mode: 0o644)
    }

    /// Starts the broker and waits until it accepts TCP connections.
    public func start(timeout: Duration = .seconds(10)) async throws {
        let child = try ChildProcess("mosquitto", ["-c", directory.file("mosquitto.conf")])
        process = child
        let port = port
        let listening = await Eventually.wait(timeout: timeout) { Self.accepts(port: port) || !child.isRunning }
        guard listening, child.isRunning else {
            throw MosquittoBrokerError("mosquitto did not start on port \(port): \(child.text)")
        }
    }

    /// Stops the broker at once. SIGKILL, because a Swift test runner hands its children a
    /// blocked SIGTERM (Foundation's Process keeps the spawning thread's signal mask), and the
    /// broker keeps no state worth a graceful exit (persistence is off; a `persistent` broker is
    /// stopped with `stopGracefully()`).
    public func stop() {
        guard let child = process else { return }
        process = nil
        child.signal(SIGKILL)
    }

    /// Stops the broker and waits until it has exited, so its port can be reused.
    public func stopAndWait() async {
        guard let child = process else { return }
        process = nil
        child.signal(SIGKILL)
        _ = await child.waitForExit()
    }

    /// Kills the broker, as a crash or a cut link would: no DISCONNECT, PUBACKs in flight lost.
    public func kill() async { await stopAndWait() }

    /// SIGTERM, and waits until the broker has exited: a persistent broker first writes its
    /// sessions and their queued messages to disk. Connections are closed without a word, as a
    /// platform going down for maintenance would close them.
    public func stopGracefully(timeout: Duration = .seconds(10)) async {
        guard let child = process else { return }
        process = nil
        child.signal(SIGTERM)
        if await child.waitForExit(timeout: timeout) == nil {
            child.signal(SIGKILL)
            _ = await child.waitForExit()
        }
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// The broker's log since its last start (to stderr, which mosquitto does not buffer: each
    /// line is here as it happens, e.g. the client id of every connection it accepts).
    public var log: String { process?.text ?? "" }

    deinit { stop() }

    /// Writes the password file anew (the next `start()` reads it), e.g. for another hour's
    /// HMAC password.
    public func replacePasswords(_ users: [User]) async throws {
        try await writePasswords(users)
    }

    // MARK: files

    /// Generous: a key or password hash takes milliseconds, but two cores may be busy.
    static let toolTimeout: Duration = .seconds(60)

    private func writePasswords(_ users: [User]) async throws {
        let file = directory.file("passwd")
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        for user in users {
            let tool = try ChildProcess("mosquitto_passwd", ["-b", file, user.name, user.password])
            guard await tool.waitForExit(timeout: Self.toolTimeout) == 0 else {
                throw MosquittoBrokerError("mosquitto_passwd failed: \(tool.text)")
            }
        }
        chmod(file, 0o644)
    }

    private func makeCertificates() async throws {
        let d = directory
        d.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", d.file("ca.key"), "-out", d.file("ca.crt"), "-days", "2", "-subj", "/CN=edgegw test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", d.file("server.key"), "-out", d.file("server.csr"), "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", d.file("server.csr"), "-CA", d.file("ca.crt"), "-CAkey", d.file("ca.key"),
             "-CAcreateserial", "-out", d.file("server.crt"), "-days", "2", "-extfile", d.file("server.ext")],
        ]
        for arguments in steps {
            let tool = try ChildProcess("openssl", arguments)
            guard await tool.waitForExit(timeout: Self.toolTimeout) == 0 else {
                throw MosquittoBrokerError("openssl \(arguments[0]) failed: \(tool.text)")
            }
        }
        for name in ["ca.crt", "server.crt", "server.key"] { chmod(d.file(name), 0o644) }
    }

    static func accepts(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }
}

public struct MosquittoBrokerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
