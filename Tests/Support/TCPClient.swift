import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client on 127.0.0.1 for tests of the daemon's HTTP endpoints: connect, send
/// bytes (all at once or a few at a time), read until the server closes.
public final class TCPClient: @unchecked Sendable {
    private let fd: Int32

    /// nil when nothing accepts on `port`.
    public init?(port: Int, host: String = "127.0.0.1", timeout: Duration = .seconds(5)) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); return nil }
    }

    deinit { close(fd) }

    /// False when the peer has closed (or reset) the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Everything until the server closes, or until the receive timeout (then nil).
    public func readToEnd() -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return result }
            if n < 0 { return errno == ECONNRESET ? result : nil }
            result.append(contentsOf: buffer[0..<n])
        }
    }

    /// One HTTP GET with `Connection: close`; the whole response as text, or nil.
    public static func get(port: Int, path: String = "/metrics", timeout: Duration = .seconds(5)) -> String? {
        guard let client = TCPClient(port: port, timeout: timeout) else { return nil }
        client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return client.readToEnd().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A scrape's samples: `name{labels} value` lines by series (name with its labels as written).
public struct ScrapeText: Sendable {
    public let text: String

    public init(_ response: String) {
        text = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    /// The value of the first series of `name` whose labels contain every `labels` pair.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name) && !line.hasPrefix("#") {
            let rest = line.dropFirst(name.count)
            guard rest.first == "{" || rest.first == " " else { continue }
            if !labels.allSatisfy({ rest.contains("\($0.key)=\"\($0.value)\"") }) { continue }
            guard let space = line.lastIndex(of: " ") else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }

    /// The type line of a family (`counter`, `gauge`, `histogram`).
    public func type(_ name: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("# TYPE \(name) ") }.map { String($0.split(separator: " ").last ?? "") }
    }
}
