import Foundation
import GatewayCore
import LwM2MSimulator
import Testing
import TestSupport

/// The daemon as the site's bootstrap server: an unprovisioned module (the project's libcoap
/// simulator, real DTLS-PSK) bootstraps with its bootstrap PSK, gets a generated connection key,
/// registers with it and is observed; the key is stored (0600), survives a restart, never printed.
@Suite(.serialized) struct BootstrapDaemonTests {
    static let imei = "861234567890901"

    /// Waits are long because this test starts the daemon twice and runs two CLI commands while
    /// the rest of the suite loads a 2-core machine (it took 29 s there, 4 s alone); each wait
    /// ends as soon as what it waits for happens.
    static let slowMachine: Duration = .seconds(40)

    @Test func anUnprovisionedModuleGetsAKeyOfItsOwnAndRegistersWithIt() async throws {
        let bootstrapKey = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let hex = bootstrapKey.map { String(format: "%02X", $0) }.joined()
        let (site, coaps, bootstrapPort) = try await Self.site(bootstrapKey: bootstrapKey)

        var daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("bootstrap server listening", timeout: Self.slowMachine), "\(daemon.text)")
        let simulator = NBIoTDeviceSimulator(serverPort: 9)
        try simulator.start()
        defer { simulator.stop() }
        var recorder: [NBIoTDeviceSimulator.Event] = []
        let events = Locked<[NBIoTDeviceSimulator.Event]>([])
        let collector = Task { for await event in simulator.events { events.withLock { $0.append(event) } } }
        defer { collector.cancel() }
        let device = simulator.add(.init(endpoint: Self.imei, psk: [], bootstrap: .init(port: bootstrapPort, psk: bootstrapKey)))
        simulator.bootstrap(device)
        #expect(await Eventually.wait(timeout: Self.slowMachine) {
            events.withLock { $0.contains { if case .observed = $0 { true } else { false } } }
        }, "\(daemon.text.suffix(4000))\n\(events.withLock { $0 })")
        recorder = events.withLock { $0 }
        #expect(recorder.contains(.bootstrapped(device: device, serverURI: "coaps://127.0.0.1:\(coaps)")))
        #expect(await Eventually.wait(timeout: Self.slowMachine) {
            site.events("sub_device_update_status").contains { "\($0)".contains("water-meter_\(Self.imei)") && "\($0)".contains("ONLINE") }
        })

        // The key: stored, 0600, never in the log.
        let keyFile = site.fixture.directory.file("state/nbiot-connection-keys")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let line = try #require(try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix(Self.imei) })
        let key = String(line.split(separator: ",")[1])
        #expect(key.count == 32)
        #expect(!daemon.text.contains(key) && !daemon.text.contains(hex))

        // The technician's view while the daemon runs: export holds the key the module registered
        // with (the bootstrap key too), list shows it bootstrapped and registered.
        let exportFile = site.fixture.directory.file("platform-export.csv")
        let (exported, exportOutput) = try await Self.edgegw(["provision", "export", "--output", exportFile, "--config", site.fixture.configPath])
        #expect(exported == 0, "\(exportOutput)")
        #expect(try Self.exportedKeys(exportFile) == (key.lowercased(), hex.lowercased()))
        #expect(!exportOutput.contains(key) && !exportOutput.lowercased().contains(key.lowercased()))
        let (listed, listOutput) = try await Self.edgegw(["provision", "list", "--config", site.fixture.configPath])
        #expect(listed == 0, "\(listOutput)")
        #expect(listOutput.contains("generated") && listOutput.contains("registered at") && listOutput.contains("(bootstrapped at"),
                "\(listOutput)")

        // After a restart the device list takes the stored key: the module registers without bootstrapping again.
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: Self.slowMachine) == 0, "\(daemon.text.suffix(3000))")
        daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("lwm2m listening", timeout: Self.slowMachine), "\(daemon.text)")
        let before = events.withLock { $0.count }
        simulator.reboot(device)
        #expect(await Eventually.wait(timeout: Self.slowMachine) {
            events.withLock { $0.dropFirst(before).contains { if case .observed = $0 { true } else { false } } }
        }, "\(daemon.text.suffix(3000))")
        #expect(!events.withLock { $0.dropFirst(before).contains { if case .bootstrapAnswered = $0 { true } else { false } } })
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8).contains("\(Self.imei),\(key)"))
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: Self.slowMachine) == 0)
        // The key survived the restart and is the same in the exported list.
        let (again, againOutput) = try await Self.edgegw(["provision", "export", "--output", exportFile, "--config", site.fixture.configPath])
        #expect(again == 0, "\(againOutput)")
        #expect(try Self.exportedKeys(exportFile) == (key.lowercased(), hex.lowercased()))
        let (_, listAfter) = try await Self.edgegw(["provision", "list", "--config", site.fixture.configPath])
        #expect(listAfter.contains("registered at") && listAfter.contains("(bootstrapped at"), "\(listAfter)")
    }

    /// A scripted cloud and a configuration whose device list has the IMEI with only a bootstrap
    /// key, the bootstrap listener on; returns the coaps and bootstrap ports.
    static func site(bootstrapKey: [UInt8]) async throws -> (CloudSite, UInt16, UInt16) {
        let site = try await CloudSite()
        let hex = bootstrapKey.map { String(format: "%02X", $0) }.joined()
        let coaps = try site.enableLwM2M(lwm2m: "", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(Self.imei),meter-901,water-meter,0,,,hex:\(hex),DTLS,3600,

            """)
        let bootstrapPort = FreePort.next(udp: true)
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8)
            + "\n[listeners.bootstrap]\nenabled = true\nport = \(bootstrapPort)\nbind = [\"127.0.0.1\"]\n"
        site.fixture.directory.write("edgegw.toml", config)
        return (site, coaps, bootstrapPort)
    }

    static func edgegw(_ arguments: [String]) async throws -> (Int32?, String) {
        let process = try ChildProcess(Paths.edgegwBinary, arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        return (status, process.text)
    }

    /// The psk and bootstrapPsk cells of the IMEI's row in an exported template (mode 0600).
    static func exportedKeys(_ path: String) throws -> (String, String) {
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let row = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix(imei) })
        let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (cells[5], cells[6])
    }
}
