/// The `[modbus]` table of edgegw.toml: defaults for every bus (a device file's `[transport]`
/// may override the delay and the timeout of its bus).
public struct ModbusSettings: Sendable, Equatable {
    /// Silence between two requests on one bus (`inter_request_delay_ms`).
    public var interRequestDelay: Duration
    /// How long to wait for an answer (`response_timeout_ms`).
    public var responseTimeout: Duration
    /// Failed cycles in a row before a device is OFFLINE (`failures_before_offline`).
    public var failuresBeforeOffline: Int
    /// First and longest wait between probes of an offline device (`retry_backoff_ms`, `retry_backoff_max_ms`).
    public var retryBackoff: Duration
    public var retryBackoffMax: Duration
    /// Every value is reported at least this often, changed or not (`full_report_interval_s`).
    public var fullReportInterval: Duration
    /// Buses whose requests and answers are logged in hex from the start (`trace_buses`, bus ids
    /// like "rtu:/dev/ttyUSB0" or "tcp:10.0.0.5:502").
    public var traceBuses: Set<ModbusBusID>

    public init(interRequestDelay: Duration = Self.defaultInterRequestDelay,
                responseTimeout: Duration = Self.defaultResponseTimeout,
                failuresBeforeOffline: Int = Self.defaultFailuresBeforeOffline,
                retryBackoff: Duration = Self.defaultRetryBackoff,
                retryBackoffMax: Duration = Self.defaultRetryBackoffMax,
                fullReportInterval: Duration = Self.defaultFullReportInterval,
                traceBuses: Set<ModbusBusID> = []) {
        self.interRequestDelay = interRequestDelay
        self.responseTimeout = responseTimeout
        self.failuresBeforeOffline = failuresBeforeOffline
        self.retryBackoff = retryBackoff
        self.retryBackoffMax = retryBackoffMax
        self.fullReportInterval = fullReportInterval
        self.traceBuses = traceBuses
    }

    public static let defaultInterRequestDelay: Duration = .milliseconds(0)
    public static let defaultResponseTimeout: Duration = .milliseconds(1000)
    public static let defaultFailuresBeforeOffline = 3
    public static let defaultRetryBackoff: Duration = .seconds(5)
    public static let defaultRetryBackoffMax: Duration = .seconds(300)
    public static let defaultFullReportInterval: Duration = .seconds(300)
}
