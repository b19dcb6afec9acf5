import Testing
@testable import GatewayCore

/// A product file's `[upgrade]` table (protocol, fragment size, check code) and what it makes of
/// the product for PCP recognition.
@Suite struct ProductUpgradeTests {
    typealias U = ProductModel.Upgrade

    func table(_ pairs: [(String, ConfigNode.Value, Int)], line: Int = 1) -> ConfigTable {
        var t = ConfigTable(line: line)
        for (k, v, l) in pairs { t[k] = ConfigNode(v, line: l) }
        return t
    }

    /// A minimal product file's root, with `upgrade` as its `[upgrade]` table when given.
    func product(upgrade: [(String, ConfigNode.Value, Int)]?, diagnostics: ConfigDiagnostics) -> ProductModel? {
        var root = ConfigTable(line: 1)
        root["product"] = ConfigNode(.table(table([("id", .string("meter"), 2), ("protocol", .string("LwM2M"), 3)], line: 1)), line: 1)
        let property = table([("name", .string("flow"), 6), ("type", .string("int"), 7)], line: 5)
        let service = table([("id", .string("Basic"), 5), ("properties", .array([ConfigNode(.table(property), line: 5)]), 5)], line: 4)
        root["services"] = ConfigNode(.array([ConfigNode(.table(service), line: 4)]), line: 4)
        if let upgrade { root["upgrade"] = ConfigNode(.table(table(upgrade, line: 20)), line: 20) }
        let reader = ConfigReader(table: root, file: "meter.toml", diagnostics: diagnostics)
        let model = ProductModel.parse(reader)
        reader.finish()
        return model
    }

    /// The spec's limits (lwm2m-coap §2.4, 0x14): fragments of 32–500 bytes, 500 by default, a
    /// 16-bit check code defaulting to 0. PCP's own `PCPLimits` say the same (PCP is not imported here).
    @Test func limitsAreTheSpecs() {
        #expect(U.fragmentSizeRange == 32...500)
        #expect(U.defaultFragmentSize == 500)
        #expect(U.checkCodeRange == 0...65_535)
        #expect(U.defaultCheckCode == 0)
        #expect(U.UpgradeProtocol.allCases == [.pcp])
    }

    @Test func noTableNoUpgrade() throws {
        let d = ConfigDiagnostics()
        let p = try #require(product(upgrade: nil, diagnostics: d))
        #expect(d.isEmpty)
        #expect(p.upgrade == nil)
        #expect(!p.upgradeCapable)
        #expect(!p.upgradeProtocolIsPCP)
    }

    @Test func pcpWithDefaults() throws {
        let d = ConfigDiagnostics()
        let p = try #require(product(upgrade: [("protocol", .string("PCP"), 21)], diagnostics: d))
        #expect(d.isEmpty, "\(d.all)")
        #expect(p.upgrade == U(upgradeProtocol: .pcp, fragmentSize: 500, checkCode: 0))
        #expect(p.upgradeCapable)
        #expect(p.upgradeProtocolIsPCP)
    }

    @Test func everyKey() throws {
        let d = ConfigDiagnostics()
        let p = try #require(product(upgrade: [("protocol", .string("pcp"), 21), ("fragment_size", .integer(117), 22),
                                               ("check_code", .integer(0xBEEF), 23)], diagnostics: d))
        #expect(d.isEmpty, "\(d.all)")
        #expect(p.upgrade == U(upgradeProtocol: .pcp, fragmentSize: 117, checkCode: 0xBEEF))
        // The bounds themselves are allowed.
        for (size, code) in [(32, 0), (500, 65_535)] {
            let d2 = ConfigDiagnostics()
            let q = product(upgrade: [("protocol", .string("PCP"), 21), ("fragment_size", .integer(Int64(size)), 22),
                                      ("check_code", .integer(Int64(code)), 23)], diagnostics: d2)
            #expect(d2.isEmpty && q?.upgrade?.fragmentSize == size && q?.upgrade?.checkCode == code)
        }
    }

    @Test func problemsAreReportedWithFileLineAndKey() {
        let cases: [([(String, ConfigNode.Value, Int)], String, Int)] = [
            ([("protocol", .string("LwM2M-FOTA"), 21)], "upgrade.protocol", 21),
            ([("fragment_size", .integer(500), 22)], "upgrade.protocol", 20),
            ([("protocol", .string("PCP"), 21), ("fragment_size", .integer(31), 22)], "upgrade.fragment_size", 22),
            ([("protocol", .string("PCP"), 21), ("fragment_size", .integer(501), 22)], "upgrade.fragment_size", 22),
            ([("protocol", .string("PCP"), 21), ("check_code", .integer(65_536), 23)], "upgrade.check_code", 23),
            ([("protocol", .string("PCP"), 21), ("check_code", .integer(-1), 23)], "upgrade.check_code", 23),
            ([("protocol", .string("PCP"), 21), ("fragment_size", .string("500"), 22)], "upgrade.fragment_size", 22),
            ([("protocol", .string("PCP"), 21), ("fragmet_size", .integer(100), 24)], "upgrade.fragmet_size", 24),
        ]
        for (entries, keyPath, line) in cases {
            let d = ConfigDiagnostics()
            #expect(product(upgrade: entries, diagnostics: d) == nil, "\(keyPath)")
            #expect(d.all.map(\.keyPath) == [keyPath], "\(d.all)")
            #expect(d.all.first?.line == line)
            #expect(d.all.first?.file == "meter.toml")
        }
        let d = ConfigDiagnostics()
        _ = product(upgrade: [("protocol", .string("LwM2M-FOTA"), 21)], diagnostics: d)
        #expect(d.all.first?.problem.contains("not supported") == true)
        #expect(d.all.first?.fix?.contains("\"PCP\"") == true)
    }
}
