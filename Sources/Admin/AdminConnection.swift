import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// One client of the admin socket, owned by the server's thread. It reads one request line
/// (bounded in size and time), then writes a reply and closes, or streams a trace until the
/// client goes away.
final class AdminConnection {
    enum Phase {
        case reading
        /// Writing the reply; closed when it is out.
        case replying
        case tracing(TraceSubscription)
    }

    let fd: Int32
    var phase: Phase = .reading
    /// Until when the request may take to arrive, or the reply to be taken.
    var deadline: ContinuousClock.Instant?
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0

    init(fd: Int32, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.deadline = deadline
    }

    var pendingOutput: Int { output.count - written }
    var wantsWrite: Bool { pendingOutput > 0 }

    /// Outcome of reading what the client sent.
    enum ReadResult {
        case waiting
        case request([UInt8])
        case tooLong
        case closed
    }

    /// Reads what is there without blocking. In the `tracing` phase the bytes are discarded
    /// (only the close matters).
    func readAvailable() -> ReadResult {
        var chunk = [UInt8](repeating: 0, count: AdminProtocol.maxRequestBytes + 1)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return .closed }
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK ? .waiting : .closed
            }
            guard case .reading = phase else { continue }
            input.append(contentsOf: chunk[0..<n])
            if let newline = input.firstIndex(of: 0x0A) {
                return newline > AdminProtocol.maxRequestBytes ? .tooLong : .request(Array(input[..<newline]))
            }
            if input.count > AdminProtocol.maxRequestBytes { return .tooLong }
        }
    }

    func queue(_ bytes: [UInt8]) {
        if written > 0, written == output.count {
            output.removeAll(keepingCapacity: true)
            written = 0
        }
        output.append(contentsOf: bytes)
    }

    /// Writes what the socket takes now; false when the client is gone.
    func flush() -> Bool {
        while written < output.count {
            let n = output.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + written, raw.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            written += n
        }
        output.removeAll(keepingCapacity: true)
        written = 0
        return true
    }

    func close() {
        if case .tracing(let subscription) = phase { subscription.cancel() }
        Glibc.close(fd)
    }
}
