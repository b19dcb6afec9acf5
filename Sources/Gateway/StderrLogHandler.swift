import Foundation
import GatewayCore
import Logging

/// One line per event on stderr: `2026-11-22T15:04:05.123Z info cloud: connected host=… port=…`.
/// journald keeps the lines as they are; the level can change on reload.
public struct StderrLogHandler: LogHandler {
    /// The level every handler reads, so a SIGHUP reload can change it for all loggers at once.
    public static let sharedLevel = LevelBox(.info)

    public final class LevelBox: @unchecked Sendable {
        private let lock = NSLock()
        private var level: Logger.Level
        init(_ level: Logger.Level) { self.level = level }
        public var value: Logger.Level {
            get { lock.withLock { level } }
            set { lock.withLock { level = newValue } }
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) {
        // "edgegw.cloud" prints as "cloud".
        self.label = label.hasPrefix("edgegw.") ? String(label.dropFirst(7)) : label
    }

    public var logLevel: Logger.Level {
        get { Self.sharedLevel.value }
        set { Self.sharedLevel.value = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(Self.timestamp()) \(event.level) \(label): \(event.message)"
        for key in merged.keys.sorted() {
            line += " \(key)=\(merged[key].map { "\($0)" } ?? "")"
        }
        FileHandle.standardError.write(Data((Self.oneLine(line) + "\n").utf8))
    }

    /// One event, one line: control characters (a NUL, a newline from a peer's bytes) become spaces.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? " " : $0 }))
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = now.tv_nsec / 1_000_000
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
    }
}

extension GatewayConfig.LogLevel {
    public var loggerLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
