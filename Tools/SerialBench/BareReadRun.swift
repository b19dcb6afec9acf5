import Foundation
import GatewayCore
import Glibc

/// The reference: the gateway end of the same kind of pty, opened and set up as edgegw opens a
/// serial port (raw, 8N1 at the line's baud, non-blocking, flushed), then poll(2) and read(2)
/// into a buffer on a thread of its own, counting bytes: no framing, no decoding, no queue.
enum BareReadRun {
    struct Result {
        var bytes = 0
        var reads = 0
        /// Bytes after the first read, and the time from the first read to the last.
        var bytesAfterFirst = 0
        var seconds = 0.0
        var cpuSeconds = 0.0
        var complete = false
    }

    enum Failure: Error, CustomStringConvertible {
        case open(String, Int32)
        var description: String {
            switch self {
            case .open(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    static func run(path: String, baud: speed_t, bytes target: Int, stop: StopRule) throws -> Result {
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.open(path, errno) }
        defer { close(fd) }
        var tio = termios()
        if tcgetattr(fd, &tio) == 0 {
            cfmakeraw(&tio)
            tio.c_cflag |= tcflag_t(CLOCAL | CREAD)
            tio.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
            tio.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
            cfsetispeed(&tio, baud)
            cfsetospeed(&tio, baud)
            tcsetattr(fd, TCSANOW, &tio)
        }
        tcflush(fd, TCIOFLUSH)

        let done = DispatchSemaphore(value: 0)
        let outcome = Locked(Result())
        let thread = Thread {
            outcome.withLock { $0 = readLoop(fd: fd, target: target, stop: stop) }
            done.signal()
        }
        thread.name = "bare-read \(path)"
        thread.start()
        done.wait()
        return outcome.withLock { $0 }
    }

    private static func readLoop(fd: Int32, target: Int, stop: StopRule) -> Result {
        let capacity = 4096
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        defer { buffer.deallocate() }
        let clock = ContinuousClock()
        var result = Result()
        announceReady()
        let cpuStart = CPUTime.now()
        let start = clock.now
        var first: ContinuousClock.Instant?
        var last = start
        while result.bytes < target {
            let now = clock.now
            if now - start >= stop.timeout || (first != nil && now - last >= stop.idle) { break }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let count = read(fd, buffer, capacity)
            if count < 0, errno == EAGAIN || errno == EINTR { continue }
            guard count > 0 else { break }
            last = clock.now
            if first == nil { first = last } else { result.bytesAfterFirst += count }
            result.bytes += count
            result.reads += 1
        }
        result.cpuSeconds = CPUTime.now() - cpuStart
        if let first { result.seconds = (last - first).seconds }
        result.complete = result.bytes >= target
        return result
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
