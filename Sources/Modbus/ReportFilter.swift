import GatewayCore

/// Decides which values of one device go to the cloud: a value that moved by at least its
/// point's deadband (any change when the deadband is 0), and every value at each periodic
/// full report. Pure, with time passed in. Points are named by their index in the device.
public struct ReportFilter<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let fullReportInterval: Duration
    /// Deadband by point index.
    private let deadbands: [Double]
    private var reported: [JSONValue?]
    private var latest: [JSONValue?]
    private var lastFullReport: Instant?

    public init(fullReportInterval: Duration, deadbands: [Double]) {
        self.fullReportInterval = fullReportInterval
        self.deadbands = deadbands
        self.reported = deadbands.map { _ in nil }
        self.latest = deadbands.map { _ in nil }
    }

    /// The newest value of every point, nil where none was read yet.
    public var latestValues: [JSONValue?] { latest }

    /// Takes one batch of new values and returns the points to report now, in index order.
    public mutating func take(_ values: [(point: Int, value: JSONValue)], at now: Instant) -> [Int] {
        for (point, value) in values where latest.indices.contains(point) { latest[point] = value }
        let fullDue = lastFullReport.map { now >= $0.advanced(by: fullReportInterval) } ?? true
        var points: [Int] = []
        if fullDue {
            lastFullReport = now
            points = latest.indices.filter { latest[$0] != nil }
        } else {
            for (point, _) in values where latest.indices.contains(point) {
                guard let value = latest[point] else { continue }
                if let previous = reported[point], !Self.moved(from: previous, to: value, deadband: deadbands[point]) { continue }
                points.append(point)
            }
            points = Array(Set(points)).sorted()
        }
        for point in points { reported[point] = latest[point] }
        return points
    }

    static func moved(from old: JSONValue, to new: JSONValue, deadband: Double) -> Bool {
        guard old != new else { return false }
        guard deadband > 0, let a = old.doubleValue, let b = new.doubleValue else { return true }
        return abs(b - a) >= deadband
    }
}
