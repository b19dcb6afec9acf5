import Foundation

/// One problem found in a config file: where, what, and how to fix it.
public struct ConfigDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// Dotted key path, with array indices: `services[0].properties[2].name`.
    public var keyPath: String
    public var problem: String
    public var fix: String?

    public init(file: String, line: Int?, keyPath: String, problem: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.problem = problem
        self.fix = fix
    }

    /// `file:line: key.path: problem (fix: ...)`, the shape compilers use so editors can jump to it.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !keyPath.isEmpty { text += "\(keyPath): " }
        text += problem
        if let fix { text += " (fix: \(fix))" }
        return text
    }
}

/// Collects every problem instead of stopping at the first, so a technician fixes a file in one pass.
public final class ConfigDiagnostics {
    public private(set) var all: [ConfigDiagnostic] = []

    public init() {}

    public func report(_ diagnostic: ConfigDiagnostic) { all.append(diagnostic) }

    public func report(file: String, line: Int?, keyPath: String, problem: String, fix: String? = nil) {
        all.append(ConfigDiagnostic(file: file, line: line, keyPath: keyPath, problem: problem, fix: fix))
    }

    public var isEmpty: Bool { all.isEmpty }

    public func append(contentsOf other: ConfigDiagnostics) { all.append(contentsOf: other.all) }
}

/// All the problems of a configuration, as one error.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
