import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A filesystem of its own (tmpfs, a few MiB), so a test can fill it to the last byte and free
/// it again: what a full disk does to SQLite, without filling the machine's disk.
///
/// Mounting needs root (CAP_SYS_ADMIN). `mount(bytes:)` returns why it could not, so a test
/// can fall back to another way of making the database full and say so.
public final class SmallFilesystem: @unchecked Sendable {
    public let path: String
    private let directory: TemporaryDirectory
    private var fillers: [String] = []

    private init(directory: TemporaryDirectory) {
        self.directory = directory
        path = directory.path
    }

    /// Mounts a tmpfs of `bytes` on a new temporary directory.
    public static func mount(bytes: Int) -> Result<SmallFilesystem, SmallFilesystemUnavailable> {
        let directory = TemporaryDirectory(prefix: "edgegw-smallfs")
        #if os(Linux)
        if Glibc.mount("tmpfs", directory.path, "tmpfs", 0, "size=\(bytes),mode=0700") != 0 {
            let reason = String(cString: strerror(errno))
            return .failure(SmallFilesystemUnavailable(reason: "mount -t tmpfs on \(directory.path): \(reason) (needs root)"))
        }
        return .success(SmallFilesystem(directory: directory))
        #else
        return .failure(SmallFilesystemUnavailable(reason: "tmpfs mounts are Linux-only"))
        #endif
    }

    public func file(_ name: String) -> String { directory.file(name) }

    /// Bytes the filesystem still has for files.
    public var available: Int {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return 0 }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Writes filler until the filesystem refuses another byte (ENOSPC).
    public func fill() {
        let name = file("filler-\(fillers.count)")
        fillers.append(name)
        let fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0xA5, count: 4096)
        var size = block.count
        while size > 0 {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written < 0 { break }
            // Down to the last bytes a partial page may still take.
            if written < size { size = max(1, size / 2) }
            if written == 0 { size /= 2 }
        }
        fsync(fd)
    }

    /// Removes the filler: space returns.
    public func free() {
        for name in fillers { unlink(name) }
        fillers.removeAll()
    }

    deinit {
        free()
        #if os(Linux)
        // Lazy, so a database the test still holds open cannot keep the mount alive.
        umount2(path, Int32(MNT_DETACH))
        #endif
    }
}

public struct SmallFilesystemUnavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
