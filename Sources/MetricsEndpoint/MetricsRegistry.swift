import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// One metric family: its name (units in the name, `_total` for counters), its help line and
/// its label names. Declared once, so a family's help and labels never differ between series
/// (the Prometheus registry refuses that).
public struct MetricFamily: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case counter, gauge }
    public var name: String
    public var help: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind, _ help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }
}

/// The daemon's metrics: a Prometheus registry of its own (never the process-wide default, so
/// tests can run many in one process), the swift-metrics factory that records histograms into
/// it where events happen, and the counters and gauges sampled from the subsystems' snapshots at
/// each scrape.
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    /// For `Timer`s and other swift-metrics handles: histograms in this registry.
    public let factory: any MetricsFactory

    private struct SeriesKey: Hashable {
        var name: String
        var labels: [String]
    }

    private struct State {
        var counters: [SeriesKey: (counter: Prometheus.Counter, last: Int)] = [:]
        var gauges: [SeriesKey: Prometheus.Gauge] = [:]
    }

    private let state = Mutex(State())

    /// `durationBuckets` per timer label (the histogram's name); others get `defaultDurationBuckets`.
    public init(durationBuckets: [String: [Duration]] = [:], defaultDurationBuckets: [Duration] = MetricsRegistry.latencyBuckets) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets
        factory.defaultDurationHistogramBuckets = defaultDurationBuckets
        self.prometheus = registry
        self.factory = factory
    }

    /// 1 ms to 30 s: a Modbus answer, a PUBACK over a cellular link, an NB-IoT module's Observe.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30),
    ]

    /// Sets a sampled counter to `value`: it advances by the difference to the last value. The
    /// subsystems' counters only grow while the process runs, so a lower value is an older
    /// snapshot that lost a race with a concurrent scrape, and is ignored.
    public func counter(_ family: MetricFamily, _ labels: [(String, String)] = [], _ value: Int) {
        let key = SeriesKey(name: family.name, labels: labels.flatMap { [$0.0, $0.1] })
        state.withLock { state in
            if let entry = state.counters[key] {
                guard value > entry.last else { return }
                entry.counter.increment(by: Int64(value - entry.last))
                state.counters[key] = (entry.counter, value)
            } else {
                let counter = prometheus.makeCounter(name: family.name, labels: labels, help: family.help)
                counter.increment(by: Int64(max(0, value)))
                state.counters[key] = (counter, value)
            }
        }
    }

    public func gauge(_ family: MetricFamily, _ labels: [(String, String)] = [], _ value: Double) {
        let key = SeriesKey(name: family.name, labels: labels.flatMap { [$0.0, $0.1] })
        state.withLock { state in
            if let gauge = state.gauges[key] {
                gauge.set(to: value)
            } else {
                let gauge = prometheus.makeGauge(name: family.name, labels: labels, help: family.help)
                gauge.set(to: value)
                state.gauges[key] = gauge
            }
        }
    }

    public func gauge(_ family: MetricFamily, _ labels: [(String, String)] = [], _ value: Int) {
        gauge(family, labels, Double(value))
    }

    /// The text exposition format of everything registered.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        prometheus.emit(into: &buffer)
        return buffer
    }
}
