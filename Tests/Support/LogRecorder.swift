import GatewayCore
import Logging

/// Every event a logger writes, for tests that check what an operator would read: which lines,
/// at which level, how many.
public final class LogRecorder: Sendable {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let text: String
        public let metadata: Logger.Metadata

        /// `level text`, then the metadata when there is any.
        public var line: String { metadata.isEmpty ? "\(level) \(text)" : "\(level) \(text) \(metadata)" }
    }

    private let recorded = Locked<[Entry]>([])

    public init() {}

    public var entries: [Entry] { recorded.withLock { $0 } }
    public var count: Int { recorded.withLock { $0.count } }
    public var lines: [String] { entries.map(\.line) }
    public func lines(containing text: String) -> [String] { lines.filter { $0.contains(text) } }

    /// A logger that writes here, at `level` and above.
    public func logger(label: String = "test", level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ entry: Entry) { recorded.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(Entry(level: event.level, text: event.message.description,
                                  metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }))
        }
    }
}
