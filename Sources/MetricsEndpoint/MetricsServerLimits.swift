import Foundation

/// Bounds of the metrics endpoint's connections, so a slow, garbage or huge client costs a few
/// kilobytes and a few seconds and never holds up the daemon or another scrape.
public struct MetricsServerLimits: Sendable, Equatable {
    /// Bytes a client may send on one connection (request line, headers and any body): a
    /// Prometheus scrape is a few hundred bytes.
    public var maxRequestBytes: Int
    /// The whole request must have arrived within this time of the connect (slowloris).
    public var requestTimeout: Duration
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: Duration
    /// Connections open at once; beyond it new ones are closed at accept.
    public var maxConnections: Int

    public init(maxRequestBytes: Int = 8192, requestTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(2),
                maxConnections: Int = 64) {
        self.maxRequestBytes = maxRequestBytes
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}
