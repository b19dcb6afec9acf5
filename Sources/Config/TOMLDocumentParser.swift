import Foundation
import GatewayCore

/// Parses TOML text into a `ConfigDocument` with a line for every key.
///
/// `TOMLParser` is our own strict TOML 1.0 reader: whatever the input (a typo, NUL bytes,
/// invalid UTF-8, ten thousand nested brackets), the answer is a document or a diagnostic
/// with `file:line`, never a crash. Lines: a key's value and everything inside it get the
/// key's line; a `[table]` or `[[array]]` element gets its header's; a table only implied by a
/// header (`a` of `[a.b]`) gets the line of the nearest table above it that has one.
public enum TOMLDocumentParser {
    public static func parse(text: String, file: String) -> Result<ConfigDocument, ConfigDiagnostic> {
        parse(bytes: Array(text.utf8), file: file)
    }

    /// The same from raw bytes: invalid UTF-8 is reported with its line and column.
    public static func parse(bytes: [UInt8], file: String) -> Result<ConfigDocument, ConfigDiagnostic> {
        do {
            return .success(ConfigDocument(file: file, root: try parseTable(bytes: bytes)))
        } catch {
            return .failure(error.diagnostic(file: file))
        }
    }

    /// The root table, or the first error with its line and column.
    public static func parseTable(bytes: [UInt8]) throws(TOMLSyntaxError) -> ConfigTable {
        try TOMLParser.parse(bytes)
    }

    /// Reads and parses a file; an unreadable, oversized or non-UTF-8 file is a diagnostic, not a crash.
    public static func load(path: String) -> Result<ConfigDocument, ConfigDiagnostic> {
        // At most one byte over the limit, so a wrong path (a log, /dev/zero) is refused, not read whole.
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.read(upToCount: TOMLParser.maxBytes + 1) ?? Data() else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            return .failure(ConfigDiagnostic(file: path, line: nil, keyPath: "", problem: "file \(reason)",
                                             fix: "check the path and that the edgegw user can read it"))
        }
        try? handle.close()
        return parse(bytes: [UInt8](data), file: path)
    }
}
