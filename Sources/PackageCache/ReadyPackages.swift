import Foundation

/// The verified packages fragments are served from, behind one lock so that `fragment` needs
/// no actor hop: packages up to the memory bound are held as bytes, larger ones are read
/// from their file with `pread`.
final class ReadyPackages: @unchecked Sendable {
    struct Entry {
        var package: ReadyPackage
        var bytes: [UInt8]?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    func insert(_ package: ReadyPackage, bytes: [UInt8]?) {
        lock.withLock { entries[package.identity.key] = Entry(package: package, bytes: bytes) }
    }

    func remove(_ key: String) { _ = lock.withLock { entries.removeValue(forKey: key) } }

    func package(_ key: String) -> ReadyPackage? { lock.withLock { entries[key]?.package } }

    var all: [ReadyPackage] { lock.withLock { entries.values.map(\.package) } }

    /// Fragment `index` (from 0) of `size` bytes; the last one short; nil beyond the end or
    /// for a package that is not verified.
    func fragment(_ key: String, index: Int, size: Int) -> [UInt8]? {
        guard size > 0, index >= 0 else { return nil }
        let entry = lock.withLock { entries[key] }
        guard let entry else { return nil }
        let total = Int(entry.package.size)
        let (start, overflow) = index.multipliedReportingOverflow(by: size)
        guard !overflow, start < total else { return nil }
        let end = min(start + size, total)
        if let bytes = entry.bytes { return Array(bytes[start..<end]) }
        return Self.read(entry.package.path, offset: start, count: end - start)
    }

    private static func read(_ path: String, offset: Int, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pread(fd, base + done, count - done, off_t(offset + done))
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return out
    }
}
