import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's side of the admin socket: one request, then the daemon's lines.
public struct AdminClient: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Sends `request` and returns the one reply (status, devices).
    public func ask(_ request: AdminRequest, timeout: Duration = .seconds(5)) throws(AdminSocketError) -> AdminReply {
        let fd = try open(request)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        guard let line = try reader.next(deadline: .now + timeout) else {
            throw AdminSocketError("the daemon closed \(path) without an answer")
        }
        return try decode(line)
    }

    /// Sends `request` and hands every line to `body` until the daemon closes the stream or
    /// `body` returns false (a trace runs until Ctrl-C ends the process).
    public func stream(_ request: AdminRequest, _ body: (AdminReply) -> Bool) throws(AdminSocketError) {
        let fd = try open(request)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        while let line = try reader.next(deadline: nil) {
            if !body(try decode(line)) { return }
        }
    }

    private func decode(_ line: [UInt8]) throws(AdminSocketError) -> AdminReply {
        do {
            return try AdminReply.decode(line: line)
        } catch {
            throw AdminSocketError("the daemon's answer on \(path) is not readable: \(error)")
        }
    }

    private func open(_ request: AdminRequest) throws(AdminSocketError) -> Int32 {
        let fd = try UnixSocket.make(nonBlocking: false)
        do {
            try UnixSocket.connect(fd, path: path)
        } catch {
            close(fd)
            switch error.code {
            case ENOENT?, ECONNREFUSED?:
                throw AdminSocketError("edgegw is not running: nothing answers on \(path) (start it with systemctl start edgegw, "
                                       + "or point --config at the configuration it runs with)", code: error.code)
            case EACCES?:
                throw AdminSocketError("permission denied on \(path): run as root or as a member of group edgegw", code: error.code)
            default:
                throw error
            }
        }
        let bytes = request.line()
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let error = AdminSocketError.system("cannot send the request to", path)
                close(fd)
                throw error
            }
            sent += n
        }
        return fd
    }
}

/// Lines from a blocking socket, with an optional deadline.
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// A reply line is never longer (a `devices` reply of 10,000 children is ~3 MB).
    static let maxLineBytes = 64 << 20

    init(fd: Int32) { self.fd = fd }

    mutating func next(deadline: ContinuousClock.Instant?) throws(AdminSocketError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            if buffer.count > Self.maxLineBytes { throw AdminSocketError("the daemon's answer is longer than \(Self.maxLineBytes) bytes") }
            if let deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let rc = poll(&p, 1, UnixSocket.pollTimeout(until: deadline, cap: 60_000))
                if rc < 0, errno == EINTR { continue }
                if rc == 0, ContinuousClock.now >= deadline { throw AdminSocketError("the daemon did not answer in time") }
                if rc == 0 { continue }
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw .system("cannot read from", "the admin socket") }
            if n == 0 { return buffer.isEmpty ? nil : { defer { buffer.removeAll() }; return buffer }() }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
