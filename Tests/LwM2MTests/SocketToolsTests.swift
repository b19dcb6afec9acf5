import Foundation
@testable import LwM2M
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SocketToolsTests {
    /// Every bound port is seen as taken, however many sockets the machine has; a free one is not.
    @Test func aPortIsInUseWhateverItsLineInTheKernelsTable() throws {
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        var lastPort: UInt16 = 0
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(fd >= 0)
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            try #require(bound)
            lastPort = UInt16(bigEndian: address.sin_port)
        }
        // /proc files are read past Foundation's first 4 KiB (200 sockets is 25 KiB of /proc/net/udp).
        let table = try #require(SocketTools.procFile("/proc/net/udp"))
        #expect(table.utf8.count > 4096)
        for fd in sockets {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            #expect(SocketTools.udpPortInUse(UInt16(bigEndian: address.sin_port), family: AF_INET))
        }
        #expect(lastPort != 0)
        close(sockets.removeLast())
        #expect(!SocketTools.udpPortInUse(lastPort, family: AF_INET))
        #expect(SocketTools.udpReceiveBufferErrors() != nil)
    }
}
