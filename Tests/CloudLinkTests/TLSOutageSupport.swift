import Foundation
import GatewayCore
import Logging

/// Log lines a session wrote, for tests that count what an operator would see.
final class SessionLog: Sendable {
    private let store = Locked<[String]>([])

    var lines: [String] { store.withLock { $0 } }
    func lines(containing text: String) -> [String] { lines.filter { $0.contains(text) } }

    func logger(label: String = "test.cloud") -> Logger {
        var logger = Logger(label: label) { _ in SessionLogHandler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    fileprivate func append(_ line: String) { store.withLock { $0.append(line) } }
}

private struct SessionLogHandler: LogHandler {
    let log: SessionLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        log.append("\(event.level) \(event.message)")
    }
}
