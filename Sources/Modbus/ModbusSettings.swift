import GatewayCore

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

extension ModbusSettings {
    /// Reads the `[modbus]` table of edgegw.toml; absent keys keep their defaults, and every
    /// problem goes to `reader.diagnostics`. Calls `reader.finish()`.
    public static func parse(_ reader: ConfigReader) -> ModbusSettings {
        var settings = ModbusSettings()
        settings.interRequestDelay = .milliseconds(reader.int("inter_request_delay_ms", default: 0, range: 0...10_000))
        settings.responseTimeout = .milliseconds(reader.int("response_timeout_ms", default: 1000, range: 1...60_000))
        settings.failuresBeforeOffline = reader.int("failures_before_offline", default: defaultFailuresBeforeOffline, range: 1...100)
        settings.retryBackoff = .milliseconds(reader.int("retry_backoff_ms", default: 5000, range: 10...3_600_000))
        settings.retryBackoffMax = .milliseconds(reader.int("retry_backoff_max_ms", default: 300_000, range: 10...86_400_000))
        if settings.retryBackoffMax < settings.retryBackoff {
            reader.report("retry_backoff_max_ms", "is shorter than retry_backoff_ms", fix: "make it at least retry_backoff_ms")
        }
        settings.fullReportInterval = .seconds(reader.int("full_report_interval_s", default: 300, range: 1...86_400))
        for bus in reader.stringArray("trace_buses", required: false) ?? [] {
            if bus.hasPrefix("rtu:") || bus.hasPrefix("tcp:") || bus.hasPrefix("rtu-tcp:") {
                settings.traceBuses.insert(ModbusBusID(bus))
            } else {
                reader.report("trace_buses", "\"\(bus)\" is not a bus id", fix: "use \"rtu:/dev/ttyUSB0\", \"tcp:HOST:PORT\" or \"rtu-tcp:HOST:PORT\"")
            }
        }
        reader.finish()
        return settings
    }
}
