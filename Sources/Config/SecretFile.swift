import Foundation
import GatewayCore

/// Reads secrets from files that only their owner may read.
public enum SecretFile {
    /// A device secret or PSK is short; anything larger is the wrong file.
    public static let maxBytes = 4096

    /// What is wrong with a secret file, and how to fix it.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let problem: String
        public let fix: String

        public var description: String { "\(problem) (fix: \(fix))" }
    }

    /// Reads a secret; trailing newlines (LF or CRLF) are stripped. A file readable or writable
    /// by group or others is refused: the secret must be treated as leaked.
    public static func read(_ path: String, maxBytes: Int = maxBytes) throws(Problem) -> Secret {
        func problem(_ text: String, _ fix: String) -> Problem { Problem(path: path, problem: text, fix: fix) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw problem("secret file \(path) does not exist", "create it with the secret on one line and `chmod 600`")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw problem("secret file \(path) is not a regular file", "point it at a file")
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw problem("secret file \(path) has mode \(String(mode, radix: 8)); group or others may access it",
                          "run `chmod 600 \(path)`")
        }
        guard info.st_size <= maxBytes, let data = FileManager.default.contents(atPath: path), data.count <= maxBytes else {
            throw problem("secret file \(path) cannot be read or is larger than \(maxBytes) bytes",
                          "make it readable by the edgegw user (owner) only, with the secret on one line")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw problem("secret file \(path) is not UTF-8 text", "write the secret as text on one line")
        }
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        if text.isEmpty { throw problem("secret file \(path) is empty", "write the secret on one line") }
        return Secret(text)
    }

    /// The same, as a config diagnostic pointing at the key that names the file.
    public static func read(_ path: String, keyPath: String, configFile: String, line: Int?,
                            maxBytes: Int = maxBytes) -> Result<Secret, ConfigDiagnostic> {
        do {
            return .success(try read(path, maxBytes: maxBytes))
        } catch {
            return .failure(ConfigDiagnostic(file: configFile, line: line, keyPath: keyPath, problem: error.problem, fix: error.fix))
        }
    }
}
