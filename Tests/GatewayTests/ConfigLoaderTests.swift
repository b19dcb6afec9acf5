import Foundation
import Testing
import TestSupport
@testable import Gateway
@testable import GatewayCore

/// Each bad-input case yields a precise message: file, line, key path, what and how to fix.
@Suite struct ConfigLoaderTests {
    func problems(_ fixture: ConfigFixture) -> [ConfigDiagnostic] {
        switch ConfigLoader.load(path: fixture.configPath) {
        case .success: return []
        case .failure(let errors): return errors.diagnostics
        }
    }

    @Test func theFixtureIsValid() throws {
        let fixture = ConfigFixture()
        let loaded = try ConfigLoader.load(path: fixture.configPath).get()
        #expect(loaded.gateway.gateway.deviceId == "gw-test-0001")
        #expect(loaded.deviceSecret.value == "s3cret-for-tests")
        #expect("\(loaded.deviceSecret)" == "<redacted>")
        #expect(loaded.products["power-meter"]?.services.first?.properties.count == 2)
        #expect(loaded.devices.map(\.nodeId) == ["meter-1"])
        #expect(loaded.gateway.paths.products == fixture.directory.file("products"))
        #expect(!loaded.summary.joined().contains("s3cret"))
    }

    @Test func theShippedSampleConfigIsValidApartFromItsSecretAndCA() {
        let sample = Paths.packageRoot + "/etc/edgegw/edgegw.toml"
        guard case .failure(let errors) = ConfigLoader.load(path: sample) else {
            Issue.record("the sample has no secret file in git, so it cannot load"); return
        }
        // The only problems are the files a technician installs on the box.
        #expect(errors.diagnostics.allSatisfy { $0.keyPath == "gateway.secret_file" || $0.keyPath == "cloud.ca_file" },
                "\(errors)")
    }

    @Test func wrongType() {
        let fixture = ConfigFixture()
        fixture.directory.write("edgegw.toml", ConfigFixture.mainConfig(cloudPort: 1883, stateDirectory: "/tmp/x")
            .replacingOccurrences(of: "keepalive_seconds = 60", with: "keepalive_seconds = \"60\""))
        let p = problems(fixture)
        #expect(p.count == 1)
        #expect(p.first?.keyPath == "cloud.keepalive_seconds")
        #expect(p.first?.problem == "expected integer, found string")
        #expect(p.first?.line == 9)
    }

    @Test func missingRequiredKey() {
        let fixture = ConfigFixture()
        fixture.directory.write("edgegw.toml", ConfigFixture.mainConfig(cloudPort: 1883, stateDirectory: "/tmp/x")
            .replacingOccurrences(of: "device_id = \"gw-test-0001\"\n", with: ""))
        let p = problems(fixture)
        #expect(p.map(\.keyPath) == ["gateway.device_id"])
        #expect(p.first?.fix?.contains("IoTDA console") == true)
    }

    @Test func unknownKeyIsNamedWithItsLine() {
        let fixture = ConfigFixture(extra: "\n[limits]\nshutdown_secnds = 5\n")
        let p = problems(fixture)
        #expect(p.count == 1)
        #expect(p.first?.keyPath == "limits.shutdown_secnds")
        #expect(p.first?.fix == "did you mean `shutdown_seconds`?")
        #expect(p.first?.line != nil)
    }

    @Test func duplicateNodeIdAcrossDeviceFiles() {
        let fixture = ConfigFixture()
        fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(unitId: 2))
        let p = problems(fixture)
        #expect(p.count == 1)
        #expect(p.first?.file.hasSuffix("meter-2.toml") == true)
        #expect(p.first?.line == 1)
        #expect(p.first?.problem.contains("node_id \"meter-1\" is already used") == true)
        #expect(p.first?.problem.contains("meter-1.toml:1") == true)
    }

    @Test func secretReadableByOthersIsRefused() throws {
        let fixture = ConfigFixture()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.secretPath)
        let p = problems(fixture)
        #expect(p.count == 1)
        #expect(p.first?.keyPath == "gateway.secret_file")
        #expect(p.first?.problem.contains("mode 644") == true)
        #expect(p.first?.fix == "run `chmod 600 \(fixture.secretPath)`")
        #expect(p.first?.line == 3)
    }

    @Test func unreadableFile() throws {
        let fixture = ConfigFixture()
        // Root reads any file, so "unreadable" is a missing one here; a directory in its place is the other case.
        try FileManager.default.removeItem(atPath: fixture.secretPath)
        #expect(problems(fixture).first?.problem.contains("does not exist") == true)
        let missing = ConfigLoader.load(path: fixture.directory.file("nope.toml"))
        guard case .failure(let errors) = missing else { Issue.record("expected failure"); return }
        #expect(errors.diagnostics.first?.problem.contains("does not exist") == true)
    }

    @Test func invalidTOMLInAProductFileIsReportedWithItsLine() {
        let fixture = ConfigFixture()
        fixture.directory.write("products/broken.toml", "[product]\nid = \"x\"\nmodel = \n")
        let p = problems(fixture)
        #expect(p.contains { $0.file.hasSuffix("broken.toml") && $0.line == 3 && $0.problem.hasPrefix("invalid TOML") })
    }

    @Test func deviceWithUnknownProduct() {
        let fixture = ConfigFixture()
        fixture.directory.write("devices/meter-1.toml", ConfigFixture.device.replacingOccurrences(of: "power-meter", with: "pwr-meter"))
        let p = problems(fixture)
        #expect(p.first?.problem == "no product model \"pwr-meter\" was loaded")
        #expect(p.first?.keyPath == "product_id")
        #expect(p.first?.line == 2)
    }

    @Test func everyProblemOfEveryFileIsCollected() {
        let fixture = ConfigFixture(extra: "\n[paths]\nproduct = \"p\"\n")
        fixture.directory.write("devices/meter-2.toml", "node_id = 5\n")
        try? FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: fixture.secretPath)
        let p = problems(fixture)
        #expect(p.count >= 4, "\(p)")
    }

    @Test func tlsWithoutCAFileIsAnError() {
        let fixture = ConfigFixture()
        fixture.directory.write("edgegw.toml", ConfigFixture.mainConfig(cloudPort: 8883, stateDirectory: "/tmp/x")
            .replacingOccurrences(of: "tls = false", with: "tls = true"))
        #expect(problems(fixture).map(\.keyPath) == ["cloud.ca_file"])
    }

    @Test func twoListenersOnOnePort() {
        let fixture = ConfigFixture()
        fixture.directory.write("edgegw.toml", ConfigFixture.mainConfig(cloudPort: 1883, stateDirectory: "/tmp/x")
            .replacingOccurrences(of: "[listeners.coaps]\nenabled = false", with: "[listeners.coaps]\nenabled = true\n[listeners.coap]\nenabled = true\nport = 5684"))
        #expect(problems(fixture).first?.problem == "listeners coap and coaps both use port 5684")
    }
}

@Suite struct ProductCodecLoadingTests {
    @Test func theSampleWaterMeterLoadsWithItsCodec() throws {
        let fixture = ConfigFixture()
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        fixture.directory.write("products/water-meter.toml", sample)
        let loaded = try ConfigLoader.load(path: fixture.configPath).get()
        #expect(loaded.codecs["water-meter"] != nil)
        #expect(loaded.codecs["power-meter"] == nil)
        #expect(loaded.summary.contains { $0.contains("water-meter (binary codec)") })
    }

    @Test func aBrokenCodecIsReportedByTheLoaderWithItsLine() throws {
        let fixture = ConfigFixture()
        let sample = try String(contentsOfFile: Paths.packageRoot + "/etc/edgegw/products/water-meter.toml", encoding: .utf8)
        // An unknown key inside the codec must not pass silently.
        fixture.directory.write("products/water-meter.toml", sample.replacingOccurrences(of: "[[codec.uplink]]", with: "[codec]\nbyte_order = \"little\"\n\n[[codec.uplink]]", options: [], range: sample.range(of: "[[codec.uplink]]")))
        guard case .failure(let errors) = ConfigLoader.load(path: fixture.configPath) else {
            Issue.record("a codec with an unknown key was accepted"); return
        }
        #expect(errors.diagnostics.contains { $0.keyPath == "codec.byte_order" && $0.line != nil && $0.file.hasSuffix("water-meter.toml") },
                "\(errors)")
    }
}
