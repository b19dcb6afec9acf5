import Foundation

extension GatewayConfig {
    /// `[metrics]`: the Prometheus endpoint (`GET /metrics`, text exposition format).
    public struct Metrics: Sendable, Equatable {
        public static let defaultHost = "127.0.0.1"
        /// Prometheus's registry of default ports lists 9464 for exporters of this kind.
        public static let defaultPort = 9464
        /// Series per child (a Modbus device's online state …) for at most this many children;
        /// the rest are only counted in the aggregates, so 10,000 modules cannot blow up a scrape.
        public static let defaultMaxChildSeries = 1000
        public static let maxChildSeriesRange = 0...100_000

        public var enabled: Bool
        /// Address to bind: an IPv4 address, an IPv6 address (bracketed in `listen`), or a host name.
        public var host: String
        public var port: Int
        public var maxChildSeries: Int

        public init(enabled: Bool = true, host: String = defaultHost, port: Int = defaultPort,
                    maxChildSeries: Int = defaultMaxChildSeries) {
            self.enabled = enabled
            self.host = host
            self.port = port
            self.maxChildSeries = maxChildSeries
        }

        /// `host:port` as written in `listen` (IPv6 bracketed).
        public var listen: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// One line for the start-up summary.
        public var summary: String {
            enabled ? "metrics: http://\(listen)/metrics, per-child series for at most \(maxChildSeries) children" : "metrics: off"
        }

        /// Splits `host:port` or `[v6]:port`; nil when it is neither.
        public static func splitListen(_ text: String) -> (host: String, port: Int)? {
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else { return nil }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":") else { return nil }
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
                if host.contains(":") { return nil }
            }
            guard !host.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (1...65535).contains(port) else {
                return nil
            }
            return (String(host), port)
        }

        /// Reads `[metrics]` (absent: on, at the default address).
        public static func parse(_ reader: ConfigReader?) -> Metrics {
            guard let reader else { return Metrics() }
            var metrics = Metrics(enabled: reader.bool("enabled", default: true),
                                  maxChildSeries: reader.int("max_child_series", default: defaultMaxChildSeries,
                                                             range: maxChildSeriesRange,
                                                             fix: "children with series of their own; the others are counted only in the totals"))
            if let listen = reader.nonEmptyString("listen", required: false) {
                if let (host, port) = splitListen(listen) {
                    metrics.host = host
                    metrics.port = port
                } else {
                    reader.report("listen", "listen must be host:port, not \"\(listen)\"",
                                  fix: "for example \"127.0.0.1:\(defaultPort)\", \"0.0.0.0:\(defaultPort)\" or \"[::1]:\(defaultPort)\"")
                }
            }
            reader.finish()
            return metrics
        }
    }
}
