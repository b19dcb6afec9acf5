import Foundation
import CCoAP
#if canImport(Glibc)
import Glibc
#endif

/// Small socket facts libcoap 4.3.1 does not expose: finding a listener's fd (to size its receive
/// buffer and to peek at ClientHellos), formatting addresses, and reading the kernel's UDP drops.
enum SocketTools {
    /// recv flags for a look at the queue that never blocks. Spelled here, where CCoAP is imported:
    /// <sys/socket.h> may belong to CCoAP's clang module rather than Glibc's, depending on build
    /// order, and a file that imports only Glibc then does not see MSG_DONTWAIT.
    static let peekWithoutWaiting = Int32(MSG_PEEK | MSG_DONTWAIT)
    static let dontWait = Int32(MSG_DONTWAIT)
    /// A UDP port the kernel has free on the address of `template` (its port is ignored).
    static func freeUDPPort(like template: coap_address_t) -> UInt16? {
        var address = template
        let family = Int32(address.addr.sa.sa_family)
        if family == AF_INET { address.addr.sin.sin_port = 0 } else { address.addr.sin6.sin6_port = 0 }
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var length = address.size
        let ok = withUnsafeMutablePointer(to: &address.addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.size) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        return family == AF_INET ? UInt16(bigEndian: address.addr.sin.sin_port) : UInt16(bigEndian: address.addr.sin6.sin6_port)
    }

    /// UDP sockets of this process bound to `port` with address family `family`.
    static func udpSockets(boundTo port: UInt16, family: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        var found: [Int32] = []
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            var type: Int32 = 0
            var typeLength = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0, type == Int32(SOCK_DGRAM.rawValue) else { continue }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let ok = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard ok == 0, Int32(storage.ss_family) == family, Self.port(of: storage) == port else { continue }
            found.append(fd)
        }
        return found
    }

    /// Asks for `bytes` of receive buffer (forced when privileged); returns what the kernel granted.
    @discardableResult
    static func setReceiveBuffer(fd: Int32, bytes: Int) -> Int {
        var size = Int32(clamping: bytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
        var granted: Int32 = 0
        var grantedLength = length
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &grantedLength)
        return Int(granted)
    }

    static func port(of storage: sockaddr_storage) -> UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { portOf(sockaddr: $0) }
        }
    }

    static func portOf(sockaddr pointer: UnsafePointer<sockaddr>) -> UInt16 {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
        default: return 0
        }
    }

    /// "ip:port" / "[ip6]:port"; IPv4-mapped IPv6 addresses are written as IPv4 so both views agree.
    static func describe(sockaddr pointer: UnsafePointer<sockaddr>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                var addr = address.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                return "\(String(cString: buffer)):\(UInt16(bigEndian: address.pointee.sin_port))"
            }
        case AF_INET6:
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                var addr = address.pointee.sin6_addr
                let port = UInt16(bigEndian: address.pointee.sin6_port)
                let bytes = withUnsafeBytes(of: addr) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    return "\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15]):\(port)"
                }
                inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                return "[\(String(cString: buffer))]:\(port)"
            }
        default:
            return "?"
        }
    }

    /// Whether any UDP socket of the family (any process) is bound to `port`. libcoap sets
    /// SO_REUSEADDR, with which Linux lets a second UDP socket bind the same port silently; a probe
    /// bound to the wildcard address without it is refused (EADDRINUSE) while any socket holds the
    /// port. (Reading /proc/net/udp instead can miss sockets created or closed during the read.)
    static func udpPortInUse(_ port: UInt16, family: Int32) -> Bool {
        let probe = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        var result: Int32
        if family == AF_INET6 {
            var one: Int32 = 1
            _ = setsockopt(probe, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        return result != 0 && errno == EADDRINUSE
    }

    /// The kernel's system-wide UDP receive-buffer drops (`RcvbufErrors` in /proc/net/snmp).
    static func udpReceiveBufferErrors() -> Int? {
        guard let text = procFile("/proc/net/snmp") else { return nil }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp:") }
        guard lines.count >= 2 else { return nil }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        guard let index = names.firstIndex(of: "RcvbufErrors"), index < values.count else { return nil }
        return Int(values[index])
    }

    /// A /proc file read to its end. Foundation's `String(contentsOfFile:)` and
    /// `FileManager.contents(atPath:)` trust the size stat reports (0 there) and return only the
    /// first 4 KiB: 30 sockets of /proc/net/udp.
    static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The DTLS record facts the reconnect rule needs (RFC 6347 §4.1, §4.2.2).
public enum DTLSRecord {
    /// Record header (13) + handshake type byte.
    public static let clientHelloPeekBytes = 14

    /// Whether a datagram starts with a ClientHello of a new handshake (epoch 0).
    public static func isClientHello(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= clientHelloPeekBytes else { return false }
        return bytes[0] == 22 && bytes[1] == 0xFE && bytes[3] == 0 && bytes[4] == 0 && bytes[13] == 1
    }

    public static func isClientHello(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isClientHello($0) }
    }

    /// Whether a ClientHello starts a handshake: it carries no cookie yet (RFC 6347 §4.2.1), where
    /// the one that answers our HelloVerifyRequest, and its retransmissions, carry one. False when
    /// the cookie field is not in this fragment.
    public static func startsHandshake(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Record header (13), handshake header (12): fragment offset at 19..21; then version (2), random (32).
        let sessionIDLength = 13 + 12 + 2 + 32
        guard isClientHello(bytes), bytes.count > sessionIDLength,
              bytes[19] == 0, bytes[20] == 0, bytes[21] == 0 else { return false }
        let cookieLength = sessionIDLength + 1 + Int(bytes[sessionIDLength])
        guard bytes.count > cookieLength else { return false }
        return bytes[cookieLength] == 0
    }

    public static func startsHandshake(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { startsHandshake($0) }
    }
}

extension LwM2MServerSettings.Listener {
    /// The listener as libcoap's address, and its family; nil when `host` is not an IPv4 or IPv6 address.
    func coapAddress() -> (address: coap_address_t, family: Int32)? {
        var address = coap_address_t()
        coap_address_init(&address)
        if inet_pton(AF_INET, host, &address.addr.sin.sin_addr) == 1 {
            address.addr.sin.sin_family = sa_family_t(AF_INET)
            address.addr.sin.sin_port = port.bigEndian
            address.size = socklen_t(MemoryLayout<sockaddr_in>.size)
            return (address, AF_INET)
        }
        if inet_pton(AF_INET6, host, &address.addr.sin6.sin6_addr) == 1 {
            address.addr.sin6.sin6_family = sa_family_t(AF_INET6)
            address.addr.sin6.sin6_port = port.bigEndian
            address.size = socklen_t(MemoryLayout<sockaddr_in6>.size)
            return (address, AF_INET6)
        }
        return nil
    }
}

