import Foundation

/// What a running process holds, read from `/proc`: its resident memory and its open file
/// descriptors. For drills that assert the daemon's memory stays bounded while something goes
/// wrong around it.
public enum ProcessResources {
    /// `VmRSS` of `/proc/<pid>/status`, in bytes; nil once the process is gone.
    public static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst(6).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    /// Entries of `/proc/<pid>/fd`; nil once the process is gone.
    public static func openDescriptors(of pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }
}

/// Samples a process's resident memory and descriptors every `interval` on a Dispatch timer (no
/// concurrency thread waits), until `stop()`.
public final class ResourceSampler: @unchecked Sendable {
    public struct Sample: Sendable {
        /// Since the sampler started.
        public var at: Duration
        public var residentBytes: Int
        public var descriptors: Int
    }

    private let pid: Int32
    private let started = ContinuousClock.now
    private let lock = NSLock()
    private var taken: [Sample] = []
    private let timer: DispatchSourceTimer

    public init(pid: Int32, interval: Duration = .milliseconds(500)) {
        self.pid = pid
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "resource-sampler"))
        let milliseconds = Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        timer.schedule(deadline: .now(), repeating: .milliseconds(max(10, milliseconds)))
        timer.setEventHandler { [weak self] in self?.sample() }
        timer.resume()
    }

    private func sample() {
        guard let rss = ProcessResources.residentBytes(of: pid) else { return }
        let fds = ProcessResources.openDescriptors(of: pid) ?? 0
        let sample = Sample(at: started.duration(to: .now), residentBytes: rss, descriptors: fds)
        lock.withLock { taken.append(sample) }
    }

    public var samples: [Sample] { lock.withLock { taken } }

    /// Stops sampling (at once; safe more than once).
    public func stop() { timer.cancel() }

    /// The samples taken `warmUp` or more after the start.
    public func samples(after warmUp: Duration) -> [Sample] { samples.filter { $0.at >= warmUp } }

    /// How far resident memory rose after `warmUp`: the highest sample since then less the first
    /// one then, in bytes (0 when it only fell). Nil without samples after `warmUp`.
    public func growth(after warmUp: Duration) -> Int? {
        let later = samples(after: warmUp)
        guard let first = later.first else { return nil }
        return max(0, (later.map(\.residentBytes).max() ?? first.residentBytes) - first.residentBytes)
    }

    /// One line for a test's output: first, highest and last RSS in MiB, highest descriptor count.
    public var summary: String {
        let all = samples
        guard let first = all.first, let last = all.last else { return "no samples" }
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return "RSS \(mib(first.residentBytes)) -> max \(mib(all.map(\.residentBytes).max() ?? 0)) -> \(mib(last.residentBytes)), "
            + "fds max \(all.map(\.descriptors).max() ?? 0), \(all.count) samples over \(last.at)"
    }

    deinit { timer.cancel() }
}
