import Foundation

extension GatewayConfig {
    /// `[upgrade]`: how the gateway upgrades its NB-IoT children over PCP from one package
    /// cache for the whole site. The platform's own numbers are named here so the config's
    /// defaults and ranges can be checked against them.
    public struct Upgrade: Sendable, Equatable {
        /// Packages are kept under the state directory up to this bound (MiB).
        public static let defaultCacheMaxMiB = 256
        public static let cacheMaxMiBRange = 1...65_536

        /// Upgrades in progress at once over the whole site.
        public static let defaultMaxConcurrentUpgrades = 100
        public static let maxConcurrentUpgradesRange = 1...100_000

        /// Fragments served per second over the whole site: 500 fragments of 500 bytes are
        /// about 2 Mbit/s, which a cellular uplink carries beside the site's other traffic.
        public static let defaultMaxFragmentsPerSecond = 500
        public static let maxFragmentsPerSecondRange = 1...100_000

        /// The platform's per-cell caps by radio coverage (lwm2m-coap §2.10): both RSRP and
        /// SINR in level 0 → 50, worst level 1 → 10, worst level 2 or outside the table → 1.
        public static let platformCellCapLevel0 = 50
        public static let platformCellCapLevel1 = 10
        public static let platformCellCapLevel2 = 1
        /// The platform's cap when it learns only the cell id (it fails the task when it cannot
        /// learn even that; edgegw falls back to `unknown_cell_cap` instead).
        public static let platformCellIdOnlyCap = 10
        /// Concurrent upgrades per cell when the coverage is unknown.
        public static let defaultUnknownCellCap = platformCellIdOnlyCap
        /// Never more than the platform allows in the best coverage.
        public static let unknownCellCapRange = 1...platformCellCapLevel0

        /// The platform recommends 2 retries 5 minutes apart; its maxima are 5 retries and
        /// 1440 minutes (UG §3.7).
        public static let defaultRetryCount = 2
        public static let retryCountRange = 0...5
        public static let defaultRetryIntervalMinutes = 5
        public static let retryIntervalMinutesRange = 1...1_440

        public static let defaultVerifyTLS = true

        /// Bound of the package cache in bytes.
        public var cacheMaxBytes: Int
        public var maxConcurrentUpgrades: Int
        public var maxFragmentsPerSecond: Int
        public var unknownCellCap: Int
        /// CA bundle for the package servers; nil means the system's trust store. Defaults to `cloud.ca_file`.
        public var caFile: String?
        /// False only where the platform's docs advise it (Basic and Standard editions): logged as a warning at start.
        public var verifyTLS: Bool
        public var retryCount: Int
        public var retryIntervalMinutes: Int

        public init(cacheMaxBytes: Int = defaultCacheMaxMiB * 1_048_576,
                    maxConcurrentUpgrades: Int = defaultMaxConcurrentUpgrades,
                    maxFragmentsPerSecond: Int = defaultMaxFragmentsPerSecond,
                    unknownCellCap: Int = defaultUnknownCellCap,
                    caFile: String? = nil, verifyTLS: Bool = defaultVerifyTLS,
                    retryCount: Int = defaultRetryCount, retryIntervalMinutes: Int = defaultRetryIntervalMinutes) {
            self.cacheMaxBytes = cacheMaxBytes
            self.maxConcurrentUpgrades = maxConcurrentUpgrades
            self.maxFragmentsPerSecond = maxFragmentsPerSecond
            self.unknownCellCap = unknownCellCap
            self.caFile = caFile
            self.verifyTLS = verifyTLS
            self.retryCount = retryCount
            self.retryIntervalMinutes = retryIntervalMinutes
        }

        public var retryInterval: Duration { .seconds(retryIntervalMinutes * 60) }

        /// Said at start when `verify_tls = false`.
        public static let verifyTLSOffWarning =
            "[upgrade] verify_tls = false: package servers' certificates are not verified (the platform advises this for its Basic and Standard editions only)"

        /// Warnings the daemon logs at start (and `edgegw check` prints).
        public var warnings: [String] { verifyTLS ? [] : [Self.verifyTLSOffWarning] }

        /// One line for the start-up summary.
        public var summary: String {
            "upgrades: cache \(cacheMaxBytes / 1_048_576) MiB, \(maxConcurrentUpgrades) at once, \(maxFragmentsPerSecond) fragments/s, "
                + "\(unknownCellCap) per cell of unknown coverage, \(retryCount) retries \(retryIntervalMinutes) min apart, "
                + "TLS \(verifyTLS ? "verified" : "NOT verified")" + (caFile.map { " against \($0)" } ?? "")
        }

        /// Reads `[upgrade]` (absent: every default); `cloudCAFile` is the resolved `cloud.ca_file`.
        public static func parse(_ reader: ConfigReader?, cloudCAFile: String?, resolve: (String) -> String) -> Upgrade {
            guard let reader else { return Upgrade(caFile: cloudCAFile) }
            let cacheMiB = reader.int("cache_max_mib", default: defaultCacheMaxMiB, range: cacheMaxMiBRange,
                                      fix: "the package cache bound in MiB, \(cacheMaxMiBRange.lowerBound)...\(cacheMaxMiBRange.upperBound)")
            let upgrade = Upgrade(
                cacheMaxBytes: cacheMiB * 1_048_576,
                maxConcurrentUpgrades: reader.int("max_concurrent_upgrades", default: defaultMaxConcurrentUpgrades,
                                                  range: maxConcurrentUpgradesRange),
                maxFragmentsPerSecond: reader.int("max_fragments_per_second", default: defaultMaxFragmentsPerSecond,
                                                  range: maxFragmentsPerSecondRange),
                unknownCellCap: reader.int("unknown_cell_cap", default: defaultUnknownCellCap, range: unknownCellCapRange,
                                           fix: "the platform allows at most \(platformCellCapLevel0) per cell; it uses \(platformCellIdOnlyCap) when it knows only the cell"),
                caFile: reader.nonEmptyString("ca_file", required: false).map(resolve) ?? cloudCAFile,
                verifyTLS: reader.bool("verify_tls", default: defaultVerifyTLS),
                retryCount: reader.int("retry_count", default: defaultRetryCount, range: retryCountRange,
                                       fix: "the platform allows 0...5 retries (it recommends 2)"),
                retryIntervalMinutes: reader.int("retry_interval_minutes", default: defaultRetryIntervalMinutes,
                                                 range: retryIntervalMinutesRange,
                                                 fix: "the platform allows 1...1440 minutes (it recommends 5)"))
            if !upgrade.verifyTLS, reader.has("ca_file") {
                reader.report("ca_file", "ca_file is set but verify_tls = false: it would not be used",
                              fix: "remove ca_file, or set verify_tls = true")
            }
            reader.finish()
            return upgrade
        }
    }
}
