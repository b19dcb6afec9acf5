import Crypto
import Foundation

/// The cache's files under `<state>/packages/`: `<identity>.part` while downloading,
/// `<sha256>.bin` once verified (content-addressed, put in place by an atomic rename after
/// fsync). Plain POSIX calls so that ENOSPC is seen as such.
struct PackageFiles: Sendable {
    let directory: String

    init(stateDirectory: String) throws(PackageFailure) {
        directory = (stateDirectory as NSString).appendingPathComponent("packages")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw PackageFailure(.internalError, "cannot create package directory \(directory): \(error)")
        }
    }

    func partialPath(_ identity: PackageIdentity) -> String { path("\(identity.key).part") }
    func packagePath(sha256: String) -> String { path("\(sha256).bin") }
    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// The size of a file, or 0 if there is none.
    func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    func remove(_ path: String) { unlink(path) }

    /// Checks size and SHA-256 of the complete partial file, fsyncs it and renames it to its
    /// content address. Returns that path and the SHA-256. The partial file is removed when
    /// it does not match (it must never be served).
    func verifyAndPublish(_ identity: PackageIdentity) throws(PackageFailure) -> (path: String, sha256: String, size: Int64) {
        let partial = partialPath(identity)
        let size = size(of: partial)
        if let expected = identity.expectedSize, size != expected {
            remove(partial)
            throw PackageFailure(.verificationFailed, "package size \(size) bytes differs from file_size \(expected)")
        }
        let sha256 = try hash(partial)
        if let expected = identity.expectedSHA256, sha256 != expected {
            remove(partial)
            throw PackageFailure(.verificationFailed, "package SHA-256 \(sha256) differs from sign \(expected)")
        }
        try sync(partial)
        let final = packagePath(sha256: sha256)
        guard rename(partial, final) == 0 else {
            throw Self.failure(errno, "cannot move \(partial) to \(final)")
        }
        syncDirectory()
        return (final, sha256, size)
    }

    /// SHA-256 of a file, lowercase hex.
    func hash(_ path: String) throws(PackageFailure) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Self.failure(errno, "cannot open \(path)") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure(errno, "cannot read \(path)")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize().hexString
    }

    /// Reads a whole verified package into memory.
    func load(_ path: String) throws(PackageFailure) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PackageFailure(.internalError, "cannot read package \(path)")
        }
        return [UInt8](data)
    }

    func sync(_ path: String) throws(PackageFailure) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Self.failure(errno, "cannot open \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Self.failure(errno, "cannot fsync \(path)") }
    }

    private func syncDirectory() {
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// ENOSPC and EDQUOT are a full disk; anything else is an internal error.
    static func failure(_ code: Int32, _ what: String) -> PackageFailure {
        let reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            return PackageFailure(.diskFull, "\(what): disk full (\(reason))")
        }
        return PackageFailure(.internalError, "\(what): \(reason)")
    }
}

/// An open partial file that the download appends to.
final class PartialFile {
    private let fd: Int32
    let path: String
    private(set) var size: Int64

    /// Opens (creating) `path` for appending; with `truncate`, from byte 0.
    init(path: String, truncate: Bool) throws(PackageFailure) {
        self.path = path
        let flags = O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0)
        fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw PackageFiles.failure(errno, "cannot open \(path)") }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(PackageFailure) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw PackageFiles.failure(errno, "cannot write \(path)")
            }
            offset += n
            size += Int64(n)
        }
    }

    /// fsync, so that the progress recorded in the index is on disk.
    func sync() throws(PackageFailure) {
        guard fsync(fd) == 0 else { throw PackageFiles.failure(errno, "cannot fsync \(path)") }
    }

    deinit { close(fd) }
}
