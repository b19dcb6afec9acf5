import Foundation
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore

/// `[upgrade]` as the daemon loads it, and the product's upgrade table as the source of the
/// NB-IoT devices' PCP capability.
@Suite struct UpgradeConfigLoadingTests {
    static let listHeader = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret,pskIdentity,uplinkPath,downlinkPath,pcp\n"

    func site(extra: String = "", product: String, list: String) -> ConfigFixture {
        let fixture = ConfigFixture(extra: extra + "\n[paths]\nnbiot_devices = \"nbiot.csv\"\n")
        fixture.directory.write("products/water-meter.toml", product)
        fixture.directory.write("nbiot.csv", Self.listHeader + list)
        return fixture
    }

    func sampleProduct() throws -> String {
        try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
    }

    @Test func theSampleProductIsUpgradedOverPCP() throws {
        let site = site(product: try sampleProduct(), list: "861234567890001,a,water-meter,0,,12345678,,DTLS,86400,,,,,\n")
        let loaded = try ConfigLoader.load(path: site.configPath).get()
        let product = try #require(loaded.products["water-meter"])
        #expect(product.upgrade == ProductModel.Upgrade(upgradeProtocol: .pcp, fragmentSize: 500, checkCode: 0))
        #expect(loaded.nbiotDevices.first?.pcpUpgradeCapable == true, "the product's [upgrade] table makes its devices PCP-capable")
    }

    @Test func withoutTheTableTheDeviceListStillDecides() throws {
        let text = try sampleProduct()
        let start = try #require(text.range(of: "\n[upgrade]\n"))
        let end = try #require(text.range(of: "# --- Codec"))
        var product = text
        product.removeSubrange(start.lowerBound..<end.lowerBound)
        let site = site(product: product, list: """
            861234567890001,a,water-meter,0,,12345678,,DTLS,86400,,,,,
            861234567890002,b,water-meter,0,,12345678,,DTLS,86400,,,,,true

            """)
        let loaded = try ConfigLoader.load(path: site.configPath).get()
        #expect(loaded.products["water-meter"]?.upgrade == nil)
        #expect(loaded.nbiotDevices.map(\.pcpUpgradeCapable) == [false, true])
    }

    @Test func anUnsupportedProtocolIsAnErrorAtItsLine() throws {
        let product = try sampleProduct().replacingOccurrences(of: #"protocol = "PCP""#, with: #"protocol = "LwM2M-FOTA""#)
        let site = site(product: product, list: "861234567890001,a,water-meter,0,,12345678,,DTLS,86400,,,,,\n")
        guard case .failure(let errors) = ConfigLoader.load(path: site.configPath) else { Issue.record("loaded"); return }
        let problem = try #require(errors.diagnostics.first { $0.keyPath == "upgrade.protocol" })
        #expect(problem.file.hasSuffix("water-meter.toml"))
        #expect(problem.line == product.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.hasPrefix(#"protocol = "LwM2M-FOTA""#) }.map { $0 + 1 })
    }

    @Test func upgradeSettingsInTheSummaryAndTheWarning() throws {
        let site = site(extra: "\n[upgrade]\nverify_tls = false\nmax_concurrent_upgrades = 7\n", product: try sampleProduct(), list: "")
        let loaded = try ConfigLoader.load(path: site.configPath).get()
        #expect(loaded.gateway.upgrade.maxConcurrentUpgrades == 7)
        #expect(loaded.gateway.upgrade.caFile == nil, "tls = false: no cloud CA, the system's trust store")
        #expect(loaded.warnings == [GatewayConfig.Upgrade.verifyTLSOffWarning])
        #expect(loaded.summary.contains { $0.hasPrefix("upgrades:") && $0.contains("7 at once") })
        #expect(loaded.summary.contains("warning: " + GatewayConfig.Upgrade.verifyTLSOffWarning))
    }

    @Test func anUnreadableUpgradeCAFileIsReported() throws {
        let site = site(extra: "\n[upgrade]\nca_file = \"ca/none.pem\"\n", product: try sampleProduct(), list: "")
        guard case .failure(let errors) = ConfigLoader.load(path: site.configPath) else { Issue.record("loaded"); return }
        #expect(errors.diagnostics.map(\.keyPath) == ["upgrade.ca_file"])
    }

    @Test func theDocumentsNameTheUpgradeKeys() {
        let paths = Set(DocumentedConfigKeysTests.documented.map(\.path))
        #expect(paths.isSuperset(of: ["upgrade.cache_max_mib", "upgrade.max_concurrent_upgrades", "upgrade.max_fragments_per_second",
                                      "upgrade.unknown_cell_cap", "upgrade.ca_file", "upgrade.verify_tls", "upgrade.retry_count",
                                      "upgrade.retry_interval_minutes"]), "\(paths.sorted())")
        #expect(!paths.contains("upgrade.protocol"), "the product file's keys are not edgegw.toml's")
    }
}
