import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What went wrong on the admin socket, for the log or the CLI.
public struct AdminSocketError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// errno of the failed call, when there was one.
    public let code: Int32?

    init(_ description: String, code: Int32? = nil) {
        self.description = description
        self.code = code
    }

    static func system(_ what: String, _ path: String) -> AdminSocketError {
        let code = errno
        return AdminSocketError("\(what) \(path): \(String(cString: strerror(code)))", code: code)
    }
}

/// Plain Unix stream sockets: the few calls the server and the client need.
enum UnixSocket {
    static func address(_ path: String) throws(AdminSocketError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw AdminSocketError("socket path \(path) is \(bytes.count) bytes long; at most \(capacity - 1) fit")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    static func make(nonBlocking: Bool) throws(AdminSocketError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else { throw .system("cannot create a socket for", "the admin socket") }
        return fd
    }

    static func bind(_ fd: Int32, path: String) throws(AdminSocketError) {
        var address = try address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw .system("cannot bind", path) }
    }

    static func connect(_ fd: Int32, path: String) throws(AdminSocketError) {
        var address = try address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw .system("cannot connect to", path) }
    }

    /// Whether a daemon answers on `path` now (a socket file left by a crash does not).
    static func isAnswered(_ path: String) -> Bool {
        guard let fd = try? make(nonBlocking: false) else { return false }
        defer { close(fd) }
        return (try? connect(fd, path: path)) != nil
    }

    /// O_NONBLOCK and FD_CLOEXEC on a descriptor.
    static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Milliseconds until `deadline` for poll(2), at least 0, at most `cap`.
    static func pollTimeout(until deadline: ContinuousClock.Instant?, cap: Int32 = 1000) -> Int32 {
        guard let deadline else { return cap }
        let left = ContinuousClock.now.duration(to: deadline)
        if left <= .zero { return 0 }
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
        return Int32(min(Int64(cap), ms))
    }
}
