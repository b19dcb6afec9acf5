import CCoAP
#if canImport(Glibc)
import Glibc
#endif

/// Puts a socket bound with SO_REUSEPORT to the listener's address under a libcoap endpoint.
///
/// libcoap 4.3.1 binds its endpoint sockets itself, without SO_REUSEPORT, and exposes neither the
/// socket nor a way to pass one in. So the endpoint is created on a free port, and its descriptor
/// is then pointed at our socket with `dup2`: libcoap keeps its number, flags and state. Closing
/// libcoap's own socket that way drops it from libcoap's epoll set, so the descriptor is added back
/// with the registration's data pointer, learnt first from a one-byte datagram sent to the socket.
enum ReusePortTakeover {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Socket options libcoap sets on an endpoint socket; copied so our socket behaves the same.
    private static let copiedOptions: [(level: Int32, name: Int32)] = [
        (SOL_SOCKET, SO_REUSEADDR),
        (Int32(IPPROTO_IP), IP_PKTINFO),
        (Int32(IPPROTO_IPV6), IPV6_V6ONLY),
        (Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO),
    ]

    /// Puts a socket bound to `address` with SO_REUSEPORT under each of libcoap's descriptors `fds`.
    /// All of them are bound before any is put under libcoap, so the kernel's choice of socket for a
    /// peer (a hash over the group) no longer changes once datagrams are being read.
    static func takeOver(fds: [Int32], address: coap_address_t, epollFD: Int32) throws {
        var shared: [Int32] = []
        do {
            for fd in fds { shared.append(try sharedSocket(like: fd, address: address)) }
        } catch {
            for socket in shared { close(socket) }
            throw error
        }
        for (index, fd) in fds.enumerated() {
            do {
                try takeOver(fd: fd, with: shared[index], epollFD: epollFD)
            } catch {
                for socket in shared[(index + 1)...] { close(socket) }
                throw error
            }
        }
    }

    /// A socket like libcoap's `fd`, bound to `address` with SO_REUSEPORT.
    private static func sharedSocket(like fd: Int32, address: coap_address_t) throws -> Int32 {
        var target = address
        let family = Int32(target.addr.sa.sa_family)
        let ours = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard ours >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        for option in copiedOptions {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, option.level, option.name, &value, &length) == 0 {
                _ = setsockopt(ours, option.level, option.name, &value, length)
            }
        }
        var on: Int32 = 1
        guard setsockopt(ours, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            close(ours)
            throw Failure(description: "SO_REUSEPORT: \(String(cString: strerror(errno)))")
        }
        let bound = withUnsafePointer(to: &target.addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(ours, $0, target.size) }
        }
        guard bound == 0 else {
            close(ours)
            throw Failure(description: "bind(): \(String(cString: strerror(errno)))")
        }
        return ours
    }

    /// Puts `ours` (from `sharedSocket`) under libcoap's descriptor `fd`; closes `ours` either way.
    private static func takeOver(fd: Int32, with ours: Int32, epollFD: Int32) throws {
        var handedOver = false
        defer { if !handedOver { close(ours) } }
        guard let epollControl = Epoll.control, let epollWait = Epoll.wait else {
            throw Failure(description: "epoll is not available")
        }
        let data = try registrationData(of: fd, epollFD: epollFD, epollWait: epollWait)
        guard dup2(ours, fd) == fd else { throw Failure(description: "dup2(): \(String(cString: strerror(errno)))") }
        close(ours)
        handedOver = true
        var event = [UInt8](repeating: 0, count: Epoll.eventBytes)
        event.withUnsafeMutableBytes {
            $0.storeBytes(of: Epoll.readable, toByteOffset: 0, as: UInt32.self)
            $0.storeBytes(of: data, toByteOffset: Epoll.dataOffset, as: UInt.self)
        }
        let added = event.withUnsafeMutableBytes { epollControl(epollFD, Epoll.controlAdd, fd, $0.baseAddress) }
        guard added == 0 else { throw Failure(description: "epoll_ctl(): \(String(cString: strerror(errno)))") }
    }

    /// The data libcoap registered `fd` with in its epoll set: a datagram to the socket makes it
    /// show up; the datagram is then taken off again so libcoap never sees it.
    private static func registrationData(of fd: Int32, epollFD: Int32,
                                         epollWait: @convention(c) (Int32, UnsafeMutableRawPointer, Int32, Int32) -> Int32) throws -> UInt {
        var local = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        // A wildcard address is reached through loopback.
        switch Int32(local.ss_family) {
        case AF_INET:
            withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    if $0.pointee.sin_addr.s_addr == 0 { $0.pointee.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian }
                }
            }
        case AF_INET6:
            withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    let any = withUnsafeBytes(of: $0.pointee.sin6_addr) { $0.allSatisfy { $0 == 0 } }
                    if any { $0.pointee.sin6_addr = in6addr_loopback }
                }
            }
        default:
            throw Failure(description: "unexpected address family \(local.ss_family)")
        }
        let probe = socket(Int32(local.ss_family), Int32(SOCK_DGRAM.rawValue), 0)
        guard probe >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        defer { close(probe) }
        var one: UInt8 = 0
        let sent = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(probe, &one, 1, 0, $0, length) }
        }
        guard sent == 1 else { throw Failure(description: "probe sendto(): \(String(cString: strerror(errno)))") }
        defer {
            var drain: UInt8 = 0
            _ = recv(fd, &drain, 1, Int32(MSG_DONTWAIT))
        }
        let events = UnsafeMutableRawPointer.allocate(byteCount: 16 * Epoll.eventBytes, alignment: 8)
        defer { events.deallocate() }
        for _ in 0..<20 {
            let count = Int(epollWait(epollFD, events, 16, 50))
            for index in 0..<max(0, count) {
                let data = Epoll.data(in: events, at: index)
                if Epoll.libcoapDescriptor(data: data) == fd { return data }
            }
        }
        throw Failure(description: "libcoap's socket did not show up in its epoll set")
    }
}
