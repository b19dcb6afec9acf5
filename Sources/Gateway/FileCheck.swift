import Foundation
import GatewayCore

extension ConfigDocument {
    /// The line of `key` in the top-level table `table`, when the file has that key.
    func line(of table: String, _ key: String) -> Int? {
        guard case .table(let t)? = root[table]?.value else { return nil }
        return t[key]?.line
    }

    /// The line of a top-level table's header.
    func tableLine(of table: String) -> Int? {
        guard let node = root[table] else { return nil }
        if case .table(let t) = node.value, let line = t.line { return line }
        return node.line
    }
}

/// What `run` would find on the file system, said before it starts.
enum FileCheck {
    /// Why `path` is not a folder that can be listed; nil when it is (or when it is missing and
    /// `mayBeMissing`).
    static func folderProblem(_ path: String, mayBeMissing: Bool) -> String? {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT, mayBeMissing, !isSymbolicLink(path) { return nil }
            return "folder \(path) \(reason(code, path))"
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "\(path) is not a folder" }
        guard let directory = opendir(path) else { return "folder \(path) cannot be listed: \(String(cString: strerror(errno)))" }
        closedir(directory)
        return nil
    }

    /// Why `path` cannot hold the state: it is not a folder, or cannot be made one.
    static func stateDirectoryProblem(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            return (info.st_mode & S_IFMT) == S_IFDIR ? nil : "\(path) is not a folder"
        }
        let code = errno
        guard code == ENOENT || code == ENOTDIR else { return "\(path) \(reason(code, path))" }
        if code == ENOENT, isSymbolicLink(path) { return "\(path) \(reason(code, path))" }
        // The nearest part of the path that exists must be a folder for `run` to create the rest.
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty {
            if stat(ancestor, &info) == 0 {
                return (info.st_mode & S_IFMT) == S_IFDIR ? nil : "\(path) cannot be created: \(ancestor) is not a folder"
            }
            if ancestor == "/" || ancestor == "." { break }
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// Why a file cannot be read; nil when it can.
    static func unreadableFile(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return reason(errno, path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "is not a regular file" }
        guard access(path, R_OK) == 0 else { return reason(errno, path) }
        return nil
    }

    private static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// `stat`'s errno as the end of a sentence about `path`.
    private static func reason(_ code: Int32, _ path: String) -> String {
        switch code {
        case ENOENT:
            if isSymbolicLink(path), let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                return "is a symbolic link to \(target), which does not exist"
            }
            return "does not exist"
        case ELOOP: return "cannot be opened: a symbolic link loop"
        case ENOTDIR: return "does not exist (a part of its path is not a folder)"
        case EACCES: return "cannot be opened: permission denied"
        default: return "cannot be opened: \(String(cString: strerror(code)))"
        }
    }
}
