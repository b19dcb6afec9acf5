import GatewayCore

/// Decides which values of one device go to the cloud: a value that moved by at least its
/// point's deadband (any change when the deadband is 0), and every value at each periodic
/// full report. Pure, with time passed in.
public struct ReportFilter<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let fullReportInterval: Duration
    /// Deadband by point name.
    private let deadbands: [String: Double]
    private var reported: [String: JSONValue] = [:]
    private var latest: [String: JSONValue] = [:]
    private var lastFullReport: Instant?

    public init(fullReportInterval: Duration, deadbands: [String: Double]) {
        self.fullReportInterval = fullReportInterval
        self.deadbands = deadbands
    }

    /// The newest value of every point read so far.
    public var latestValues: [String: JSONValue] { latest }

    /// Takes one cycle's values (point name → value) and returns the names to report now.
    public mutating func take(_ values: [(point: String, value: JSONValue)], at now: Instant) -> [String] {
        for (point, value) in values { latest[point] = value }
        let fullDue = lastFullReport.map { now >= $0.advanced(by: fullReportInterval) } ?? true
        let names: [String]
        if fullDue {
            lastFullReport = now
            names = Array(latest.keys)
        } else {
            names = values.map(\.point).filter { name in
                guard let value = latest[name] else { return false }
                guard let previous = reported[name] else { return true }
                return Self.moved(from: previous, to: value, deadband: deadbands[name] ?? 0)
            }
        }
        for name in names { reported[name] = latest[name] }
        return names
    }

    static func moved(from old: JSONValue, to new: JSONValue, deadband: Double) -> Bool {
        guard old != new else { return false }
        guard deadband > 0, let a = old.doubleValue, let b = new.doubleValue else { return true }
        return abs(b - a) >= deadband
    }
}
