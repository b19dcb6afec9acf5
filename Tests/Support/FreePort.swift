import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// Free ports on 127.0.0.1 for peers the tests start.
public enum FreePort {
    /// Ports handed out come from below the kernel's ephemeral range (32768–60999 here): a port
    /// the kernel picks for a `bind(0)` or an outgoing socket (a server's own start-up probe, a
    /// client) can then never be one a test has just chosen and not bound yet. Each is handed
    /// out once per process and checked free when handed out.
    public static let range: ClosedRange<UInt16> = 20_000...32_767

    private static let cursor = Locked(UInt16(0))

    /// A port on 127.0.0.1 that is free now (for UDP with `udp`, else TCP) and that no other
    /// caller in this process was given.
    public static func next(udp: Bool = false) -> UInt16 {
        let span = Int(range.upperBound - range.lowerBound) + 1
        for _ in 0..<span {
            let port: UInt16 = cursor.withLock { cursor in
                // A random start per process, so two test processes on one machine rarely meet.
                if cursor == 0 { cursor = UInt16.random(in: range) }
                let port = cursor
                cursor = cursor >= range.upperBound ? range.lowerBound : cursor + 1
                return port
            }
            if isFree(port, udp: udp) && isFree(port, udp: !udp) { return port }
        }
        return kernelChosen(udp: udp)
    }

    /// Asks the kernel for a free port by binding port 0.
    static func kernelChosen(udp: Bool) -> UInt16 {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A port free for both TCP and UDP, and (for libcoap's `-p P`) P+1 as well.
    public static func nextPair() -> UInt16 {
        for _ in 0..<50 {
            let port = next(udp: true)
            if port < range.upperBound, isFree(port + 1, udp: true), isFree(port + 1, udp: false) {
                _ = next(udp: true) // port + 1 is taken: hand it to no one else
                return port
            }
        }
        return next(udp: true)
    }

    public static func isFree(_ port: UInt16, udp: Bool) -> Bool {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }
}
