import Foundation
import Testing
@testable import GatewayCore

/// `[upgrade]` of edgegw.toml: defaults, ranges, diagnostics.
@Suite struct UpgradeSettingsTests {
    typealias U = GatewayConfig.Upgrade

    func reader(_ entries: [(String, ConfigNode.Value, Int)], diagnostics: ConfigDiagnostics) -> ConfigReader {
        var t = ConfigTable(line: 40)
        for (key, value, line) in entries { t[key] = ConfigNode(value, line: line) }
        return ConfigReader(table: t, file: "edgegw.toml", path: "upgrade", diagnostics: diagnostics)
    }

    @Test func defaultsAreNamedAndFollowThePlatform() {
        #expect(U.defaultCacheMaxMiB == 256)
        #expect(U.defaultMaxConcurrentUpgrades == 100)
        #expect(U.defaultMaxFragmentsPerSecond == 500)
        #expect(U.defaultRetryCount == 2, "the platform recommends 2 retries")
        #expect(U.defaultRetryIntervalMinutes == 5, "5 minutes apart")
        #expect(U.retryCountRange == 0...5)
        #expect(U.retryIntervalMinutesRange == 1...1440)
        #expect(U.defaultVerifyTLS)
        // The platform's per-cell concurrency (50 / 10 / 1 by coverage, 10 with the cell id only).
        #expect([U.platformCellCapLevel0, U.platformCellCapLevel1, U.platformCellCapLevel2] as [Int] == [50, 10, 1])
        #expect(U.platformCellIdOnlyCap == 10)
        #expect(U.defaultUnknownCellCap == 10)
        #expect(U.unknownCellCapRange == 1...50)
    }

    @Test func anAbsentTableGivesTheDefaultsAndTheCloudsCA() {
        let u = U.parse(nil, cloudCAFile: "/etc/edgegw/ca.pem", resolve: { $0 })
        #expect(u == U(caFile: "/etc/edgegw/ca.pem"))
        #expect(u.cacheMaxBytes == 256 * 1_048_576)
        #expect(u.retryInterval == .seconds(300))
        #expect(u.warnings.isEmpty)
        #expect(u.summary.contains("cache 256 MiB"))
    }

    @Test func everyKey() {
        let d = ConfigDiagnostics()
        let r = reader([("cache_max_mib", .integer(64), 41), ("max_concurrent_upgrades", .integer(20), 42),
                        ("max_fragments_per_second", .integer(5000), 43), ("unknown_cell_cap", .integer(3), 44),
                        ("ca_file", .string("certs/obs.pem"), 45), ("verify_tls", .bool(true), 46),
                        ("retry_count", .integer(0), 47), ("retry_interval_minutes", .integer(1440), 48)], diagnostics: d)
        let u = U.parse(r, cloudCAFile: "/etc/edgegw/ca.pem", resolve: { "/etc/edgegw/" + $0 })
        #expect(d.isEmpty)
        #expect(u == U(cacheMaxBytes: 64 * 1_048_576, maxConcurrentUpgrades: 20, maxFragmentsPerSecond: 5000, unknownCellCap: 3,
                       caFile: "/etc/edgegw/certs/obs.pem", verifyTLS: true, retryCount: 0, retryIntervalMinutes: 1440))
    }

    @Test func outOfRangeValuesAreReportedAtTheirLine() {
        let cases: [(String, Int64)] = [("cache_max_mib", 0), ("max_concurrent_upgrades", 0), ("max_fragments_per_second", 0),
                                        ("unknown_cell_cap", 51), ("retry_count", 6), ("retry_interval_minutes", 0),
                                        ("retry_interval_minutes", 1441), ("cache_max_mib", -1)]
        for (key, value) in cases {
            let d = ConfigDiagnostics()
            _ = U.parse(reader([(key, .integer(value), 50)], diagnostics: d), cloudCAFile: nil, resolve: { $0 })
            #expect(d.all.count == 1, "\(key) = \(value)")
            #expect(d.all.first?.line == 50)
            #expect(d.all.first?.keyPath == "upgrade.\(key)")
        }
    }

    @Test func wrongTypesAndUnknownKeys() {
        let d = ConfigDiagnostics()
        _ = U.parse(reader([("verify_tls", .string("no"), 41), ("cache_max_mb", .integer(10), 42)], diagnostics: d),
                    cloudCAFile: nil, resolve: { $0 })
        #expect(d.all.map(\.keyPath).sorted() == ["upgrade.cache_max_mb", "upgrade.verify_tls"])
        #expect(d.all.contains { $0.keyPath == "upgrade.cache_max_mb" && ($0.fix ?? "").contains("cache_max_mib") })
    }

    @Test func verifyTLSOffIsAllowedWithAWarning() {
        let d = ConfigDiagnostics()
        let u = U.parse(reader([("verify_tls", .bool(false), 41)], diagnostics: d), cloudCAFile: "/ca.pem", resolve: { $0 })
        #expect(d.isEmpty)
        #expect(!u.verifyTLS)
        #expect(u.warnings == [U.verifyTLSOffWarning])
        #expect(U.verifyTLSOffWarning.contains("verify_tls = false"))
        #expect(u.summary.contains("NOT verified"))
        // A CA file that would not be used is a mistake worth saying.
        let d2 = ConfigDiagnostics()
        _ = U.parse(reader([("verify_tls", .bool(false), 41), ("ca_file", .string("/x.pem"), 42)], diagnostics: d2),
                    cloudCAFile: nil, resolve: { $0 })
        #expect(d2.all.map(\.keyPath) == ["upgrade.ca_file"])
        #expect(d2.all.first?.line == 42)
    }
}
