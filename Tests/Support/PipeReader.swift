import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a child process's output pipe on a thread of its own until end of file, handing each
/// chunk to `received`. Not `FileHandle.readabilityHandler`: on Linux that is a Dispatch source,
/// and a pipe closed while its source is still being cancelled leaves libdispatch's epoll with a
/// stale registration, which crashed whole test runs in `_dispatch_event_loop_drain`. Here the
/// thread owns the read end and closes it itself, after the last read.
public enum PipeReader {
    /// Starts reading `pipe`'s read end; call after the process has been started, so the parent's
    /// copy of the write end can be closed (end of file then comes when the child exits).
    /// `ended` is called after the last chunk (end of file, or a read error).
    public static func start(_ pipe: Pipe, name: String, received: @escaping @Sendable (Data) -> Void,
                             ended: @escaping @Sendable () -> Void = {}) {
        let fd = dup(pipe.fileHandleForReading.fileDescriptor)
        try? pipe.fileHandleForWriting.close()
        // The thread's copy is the only read end needed: one descriptor per child, not two. A
        // test run holds hundreds of children at once, and libraries that wait with select(2)
        // (libcoap's DTLS client, libmosquitto, libmodbus) abort on a descriptor past 1023.
        try? pipe.fileHandleForReading.close()
        guard fd >= 0 else { return }
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    received(Data(buffer[0..<count]))
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            ended()
        }
        thread.name = name
        thread.start()
    }
}
