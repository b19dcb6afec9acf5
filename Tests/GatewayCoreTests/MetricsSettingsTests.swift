import Foundation
import Testing
@testable import GatewayCore

/// `[metrics]` of edgegw.toml: defaults, `listen` forms, the `max_child_series` range, `enabled = false`.
@Suite struct MetricsSettingsTests {
    typealias M = GatewayConfig.Metrics

    func reader(_ entries: [(String, ConfigNode.Value, Int)], diagnostics: ConfigDiagnostics) -> ConfigReader {
        var t = ConfigTable(line: 60)
        for (key, value, line) in entries { t[key] = ConfigNode(value, line: line) }
        return ConfigReader(table: t, file: "edgegw.toml", path: "metrics", diagnostics: diagnostics)
    }

    @Test func anAbsentTableIsOnAtTheDefaultAddress() {
        let m = M.parse(nil)
        #expect(m == M(enabled: true, host: "127.0.0.1", port: 9464, maxChildSeries: 1000))
        #expect(m.listen == "127.0.0.1:9464")
        #expect(m.summary.contains("http://127.0.0.1:9464/metrics"))
    }

    @Test func everyKeyAndEveryListenForm() {
        let cases: [(String, String, Int, String)] = [
            ("0.0.0.0:9100", "0.0.0.0", 9100, "0.0.0.0:9100"),
            ("[::1]:9464", "::1", 9464, "[::1]:9464"),
            ("[::]:1", "::", 1, "[::]:1"),
            ("gateway.local:65535", "gateway.local", 65535, "gateway.local:65535"),
        ]
        for (listen, host, port, written) in cases {
            let d = ConfigDiagnostics()
            let m = M.parse(reader([("listen", .string(listen), 61), ("enabled", .bool(true), 62),
                                    ("max_child_series", .integer(50), 63)], diagnostics: d))
            #expect(d.isEmpty, "\(listen): \(d.all)")
            #expect(m == M(enabled: true, host: host, port: port, maxChildSeries: 50), "\(listen)")
            #expect(m.listen == written)
        }
    }

    @Test func aBadListenIsReportedAtItsLineWithAnExample() {
        for bad in ["9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", ":9464", "::1:9464",
                    "[::1]9464", "[::1]:", "127.0.0.1:+9464", "127.0.0.1:٩٤٦٤"] {
            let d = ConfigDiagnostics()
            let m = M.parse(reader([("listen", .string(bad), 64)], diagnostics: d))
            #expect(d.all.count == 1, "\(bad): \(d.all)")
            let diagnostic = d.all.first
            #expect(diagnostic?.line == 64, "\(bad)")
            #expect(diagnostic?.keyPath == "metrics.listen")
            #expect(diagnostic?.problem.contains(bad) == true)
            #expect(diagnostic?.fix?.contains("127.0.0.1:9464") == true)
            #expect(diagnostic?.description.hasPrefix("edgegw.toml:64: metrics.listen: ") == true, "\(String(describing: diagnostic))")
            // The rest stays at its default; the daemon does not start with a problem anyway.
            #expect(m.port == 9464, "\(bad)")
        }
        // Not a string at all, or an empty one.
        for value in [ConfigNode.Value.integer(9464), .string("")] {
            let d = ConfigDiagnostics()
            _ = M.parse(reader([("listen", value, 65)], diagnostics: d))
            #expect(d.all.map(\.line) == [65], "\(value)")
            #expect(d.all.map(\.keyPath) == ["metrics.listen"])
        }
    }

    @Test func maxChildSeriesMustBeInRange() {
        #expect(M.maxChildSeriesRange == 0...100_000)
        for (value, ok) in [(Int64(0), true), (100_000, true), (-1, false), (100_001, false)] {
            let d = ConfigDiagnostics()
            let m = M.parse(reader([("max_child_series", .integer(value), 66)], diagnostics: d))
            if ok {
                #expect(d.isEmpty, "\(value)")
                #expect(m.maxChildSeries == Int(value))
            } else {
                #expect(d.all.map(\.line) == [66], "\(value)")
                #expect(d.all.first?.keyPath == "metrics.max_child_series")
                #expect(d.all.first?.fix != nil)
            }
        }
    }

    @Test func enabledFalseTurnsItOffAndUnknownKeysAreNamed() {
        let d = ConfigDiagnostics()
        let m = M.parse(reader([("enabled", .bool(false), 67)], diagnostics: d))
        #expect(d.isEmpty)
        #expect(!m.enabled)
        #expect(m.summary == "metrics: off")
        let d2 = ConfigDiagnostics()
        _ = M.parse(reader([("enabled", .string("no"), 68), ("port", .integer(9464), 69)], diagnostics: d2))
        #expect(d2.all.map(\.keyPath).sorted() == ["metrics.enabled", "metrics.port"])
        #expect(d2.all.compactMap(\.line).sorted() == [68, 69])
    }
}
