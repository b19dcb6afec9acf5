import Foundation
import GatewayCore

/// Reads secrets from files that only their owner may read.
public enum SecretFile {
    /// Reads a secret file; trailing newlines are stripped. A file readable or writable by
    /// group or others is refused: the secret must be treated as leaked.
    public static func read(_ path: String, keyPath: String, configFile: String, line: Int?) -> Result<Secret, ConfigDiagnostic> {
        func failure(_ problem: String, _ fix: String) -> Result<Secret, ConfigDiagnostic> {
            .failure(ConfigDiagnostic(file: configFile, line: line, keyPath: keyPath, problem: problem, fix: fix))
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            return failure("secret file \(path) does not exist", "create it with the secret on one line and `chmod 600`")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return failure("secret file \(path) is not a regular file", "point it at a file")
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0 {
            return failure("secret file \(path) has mode \(String(mode, radix: 8)); group or others may access it",
                           "run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return failure("secret file \(path) cannot be read", "make it readable by the edgegw user (owner) only")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return failure("secret file \(path) is not UTF-8 text", "write the secret as text on one line")
        }
        let secret = text.trimmingCharacters(in: .newlines)
        if secret.isEmpty { return failure("secret file \(path) is empty", "write the secret on one line") }
        return .success(Secret(secret))
    }
}
