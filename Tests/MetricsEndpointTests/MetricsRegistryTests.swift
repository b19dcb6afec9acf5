import CoreMetrics
import Testing
import MetricsEndpoint

@Suite struct MetricsRegistryTests {
    static let requests = MetricFamily("edgegw_test_requests_total", .counter, "Requests.")
    static let online = MetricFamily("edgegw_test_online", .gauge, "Online.")

    @Test func sampledCountersAdvanceByTheDifferenceAndNeverGoBack() {
        let registry = MetricsRegistry()
        registry.counter(Self.requests, [("bus", "a")], 3)
        registry.counter(Self.requests, [("bus", "a")], 5)
        registry.counter(Self.requests, [("bus", "a")], 4) // an older snapshot that lost a race
        registry.gauge(Self.online, [("node_id", "m-1")], 1)
        let text = String(decoding: registry.render(), as: UTF8.self)
        #expect(text.contains("# TYPE edgegw_test_requests_total counter"))
        #expect(text.contains("edgegw_test_requests_total{bus=\"a\"} 5"))
        #expect(text.contains("# TYPE edgegw_test_online gauge"))
        #expect(text.contains("edgegw_test_online{node_id=\"m-1\"} 1"))
    }

    @Test func timersRecordIntoThisRegistryOnlyAsHistograms() {
        let one = MetricsRegistry(), other = MetricsRegistry()
        let timer = CoreMetrics.Timer(label: "edgegw_test_latency_seconds", dimensions: [("bus", "a")], factory: one.factory)
        timer.recordNanoseconds(3_000_000)
        let text = String(decoding: one.render(), as: UTF8.self)
        #expect(text.contains("# TYPE edgegw_test_latency_seconds histogram"))
        #expect(text.contains("edgegw_test_latency_seconds_bucket{bus=\"a\",le=\"0.005\"} 1"))
        #expect(text.contains("edgegw_test_latency_seconds_count{bus=\"a\"} 1"))
        #expect(other.render().isEmpty)
    }
}
