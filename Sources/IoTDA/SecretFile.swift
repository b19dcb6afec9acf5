import Foundation

/// Reads the device secret from a file that only its owner may read (for `edgegw credentials`;
/// internal so that it does not clash with the daemon's own reader in Config).
enum SecretFile {
    /// A device secret is short; anything larger is the wrong file.
    public static let maxBytes = 4096

    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let description: String
    }

    /// The secret without its trailing newline(s). Errors say what is wrong and how to fix it.
    public static func read(_ path: String) throws(SecretFile.Error) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Error(path: path, description: "\(path): cannot read the secret file (\(String(cString: strerror(errno))))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Error(path: path, description: "\(path): the secret file is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Error(path: path, description: String(format: "%@: the secret file has mode %04o; group and others must have no access (run: chmod 600 %@)",
                                                        path, Int(mode), path))
        }
        guard info.st_size <= maxBytes else {
            throw Error(path: path, description: "\(path): the secret file is larger than \(maxBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, description: "\(path): cannot read the secret file")
        }
        guard data.count <= maxBytes, var secret = String(data: data, encoding: .utf8) else {
            throw Error(path: path, description: "\(path): the secret file is not UTF-8 text of at most \(maxBytes) bytes")
        }
        while let last = secret.unicodeScalars.last, last == "\n" || last == "\r" { secret.unicodeScalars.removeLast() }
        guard !secret.isEmpty else { throw Error(path: path, description: "\(path): the secret file is empty") }
        return secret
    }
}
