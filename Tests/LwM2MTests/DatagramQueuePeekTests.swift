import Foundation
@testable import LwM2M
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The listener peek that sizes libcoap's read batches: it must see every waiting datagram, in
/// order, and leave all of them for the real read.
@Suite struct DatagramQueuePeekTests {
    private static func socketPair() throws -> (receiver: Int32, sender: Int32, address: sockaddr_in) {
        let (receiver, address) = try LoopbackUDPSocket.bound()
        return (receiver, socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), address)
    }

    private static func send(_ text: String, from fd: Int32, to address: sockaddr_in) {
        var target = address
        let bytes = Array(text.utf8)
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    @Test func seesEveryWaitingDatagramInOrderAndLeavesThemQueued() throws {
        let (receiver, sender, address) = try Self.socketPair()
        defer { close(receiver); close(sender) }
        for text in ["one", "two!", "three"] { Self.send(text, from: sender, to: address) }
        let peek = DatagramQueuePeek()
        var seen: [String] = []
        let count = peek.peek(fd: receiver, limit: 16) { datagram, source in
            seen.append(String(decoding: datagram, as: UTF8.self))
            #expect(Int32(source.pointee.sa_family) == AF_INET)
        }
        #expect(count == 3)
        #expect(seen == ["one", "two!", "three"])
        #expect(peek.offsetPeekSupported)
        // The real reads still get all three, from the head.
        var buffer = [UInt8](repeating: 0, count: 64)
        var read: [String] = []
        for _ in 0..<3 {
            let n = recv(receiver, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            read.append(String(decoding: buffer[0..<max(0, n)], as: UTF8.self))
        }
        #expect(read == ["one", "two!", "three"])
        // And a second peek pass starts at the head again.
        Self.send("four", from: sender, to: address)
        var again: [String] = []
        #expect(peek.peek(fd: receiver, limit: 16) { datagram, _ in again.append(String(decoding: datagram, as: UTF8.self)) } == 1)
        #expect(again == ["four"])
    }

    @Test func stopsAtTheLimit() throws {
        let (receiver, sender, address) = try Self.socketPair()
        defer { close(receiver); close(sender) }
        for index in 0..<10 { Self.send("d\(index)", from: sender, to: address) }
        let peek = DatagramQueuePeek()
        #expect(peek.peek(fd: receiver, limit: 4) { _, _ in } == 4)
        #expect(peek.peek(fd: receiver, limit: 1) { _, _ in } == 1)
        #expect(peek.peek(fd: receiver + 1000, limit: 4) { _, _ in } == 0)
    }
}
