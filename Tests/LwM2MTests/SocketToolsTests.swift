import Foundation
@testable import LwM2M
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SocketToolsTests {
    /// Every bound port is seen as taken, however many sockets the machine has.
    @Test func aPortIsInUseWhateverItsLineInTheKernelsTable() throws {
        var sockets: [(fd: Int32, port: UInt16)] = []
        defer { for socket in sockets { close(socket.fd) } }
        for _ in 0..<200 {
            let (fd, address) = try LoopbackUDPSocket.bound()
            sockets.append((fd, UInt16(bigEndian: address.sin_port)))
        }
        // /proc files are read past Foundation's first 4 KiB (200 sockets is 25 KiB of /proc/net/udp).
        let table = try #require(SocketTools.procFile("/proc/net/udp"))
        #expect(table.utf8.count > 4096)
        for socket in sockets { #expect(SocketTools.udpPortInUse(socket.port, family: AF_INET)) }
        // (A freed port is not checked here: parallel tests may take it at once. Every server start
        // in the other suites checks a free port and would fail on a wrong "in use".)
        #expect(SocketTools.udpReceiveBufferErrors() != nil)
    }
}
