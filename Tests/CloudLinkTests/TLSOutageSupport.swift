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

/// CPU time used by this process's connection threads (`edgegw-mqtt-N`), read from /proc.
/// A sampler polls every live thread and keeps the last figure of each, so threads that ended
/// between two samples are counted up to their last sample.
final class LinkThreadCPU: Sendable {
    private let seen = Locked<[Int: Duration]>([:])
    private let task: Task<Void, Never>

    init(poll: Duration = .milliseconds(10)) {
        let seen = seen
        task = Task.detached {
            while !Task.isCancelled {
                for (tid, cpu) in Self.sample() { seen.withLock { $0[tid] = cpu } }
                try? await Task.sleep(for: poll)
            }
        }
    }

    /// Total so far over every connection thread seen.
    var total: Duration { seen.withLock { $0.values.reduce(.zero, +) } }
    var threadsSeen: Int { seen.withLock { $0.count } }

    func stop() { task.cancel() }

    /// utime + stime of each live `edgegw-mqtt-*` thread.
    static func sample() -> [Int: Duration] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var result: [Int: Duration] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for name in tasks {
            guard let tid = Int(name),
                  let comm = try? String(contentsOfFile: "/proc/self/task/\(name)/comm", encoding: .utf8),
                  comm.hasPrefix("edgegw-mqtt"),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after "(comm)": state is field 3, utime 14 and stime 15 (1-based).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { continue }
            result[tid] = .seconds((utime + stime) / ticks)
        }
        return result
    }
}
