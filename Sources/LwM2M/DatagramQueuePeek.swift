#if canImport(Glibc)
import Glibc
#endif

/// Looks at the datagrams waiting on a UDP socket without taking them. With `SO_PEEK_OFF` each
/// `MSG_PEEK` read moves past the datagram it returned, so the whole queue can be seen (and counted)
/// before libcoap reads it; a normal read moves the offset back, so libcoap's reads are unaffected.
final class DatagramQueuePeek {
    /// Largest UDP payload: a shorter buffer would leave the peek offset inside a datagram.
    private static let bufferBytes = 65_536
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: DatagramQueuePeek.bufferBytes, alignment: 16)
    /// Cleared when the kernel refuses SO_PEEK_OFF: then only the head of the queue is seen.
    private(set) var offsetPeekSupported = true

    deinit { buffer.deallocate() }

    /// Calls `visit` with each waiting datagram and its source, oldest first, at most `limit` of
    /// them; returns how many there were.
    func peek(fd: Int32, limit: Int, visit: (UnsafeRawBufferPointer, UnsafePointer<sockaddr>) -> Void) -> Int {
        peekWhile(fd: fd, limit: limit) { datagram, source in
            visit(datagram, source)
            return true
        }
    }

    /// As `peek(fd:limit:visit:)`, but stops before the first datagram `accept` returns false for
    /// (it is not counted).
    func peekWhile(fd: Int32, limit: Int, accept: (UnsafeRawBufferPointer, UnsafePointer<sockaddr>) -> Bool) -> Int {
        var enabled = offsetPeekSupported && limit > 1
        if enabled {
            var zero: Int32 = 0
            enabled = setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, socklen_t(MemoryLayout<Int32>.size)) == 0
            if !enabled { offsetPeekSupported = false }
        }
        defer {
            if enabled {
                var off: Int32 = -1
                _ = setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        let rounds = enabled ? limit : 1
        var seen = 0
        var storage = sockaddr_storage()
        while seen < rounds {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffer, Self.bufferBytes, SocketTools.peekWithoutWaiting, $0, &length)
                }
            }
            guard received >= 0 else { break }
            let accepted = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(UnsafeRawBufferPointer(start: buffer, count: received), $0)
                }
            }
            guard accepted else { break }
            seen += 1
        }
        return seen
    }
}
