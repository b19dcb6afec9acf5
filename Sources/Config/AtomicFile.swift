import Foundation
import GatewayCore

/// Replaces a file whole: a temporary file beside it, created with the final mode (so the
/// content is never readable by more than the final file allows, not even for a moment),
/// written, fsynced, renamed over it, the directory fsynced. A crash at any point leaves the old
/// file or the new one, never half.
public enum AtomicFile {
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws(SecretFile.Problem) {
        func problem(_ text: String) -> SecretFile.Problem {
            SecretFile.Problem(path: path, problem: text, fix: "check that the directory exists, is writable, and has space")
        }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw problem("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        // open() applies the umask to the mode; set exactly the one asked for.
        _ = fchmod(fd, mode)
        func fail(_ what: String) -> SecretFile.Problem {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            return problem("cannot \(what) \(temporary): \(reason)")
        }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw fail("write") }
            written += result
        }
        guard fsync(fd) == 0 else { throw fail("sync") }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw problem("cannot rename \(temporary) to \(path): \(reason)")
        }
        let directoryFd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFd >= 0 {
            _ = fsync(directoryFd)
            close(directoryFd)
        }
    }

    /// The permission bits of the file at `path`, or nil when there is none.
    public static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }
}
