import Foundation
import GatewayCore
import LwM2MSimulator
import Testing
import TestSupport

/// A module that bootstraps again and again (Huawei's driver reboots it when no Observe comes):
/// the daemon says so once, with the count, and `edgegw provision list` shows the loop.
@Suite(.serialized) struct BootstrapLoopDaemonTests {
    @Test func aModuleBootstrappingThreeTimesIsLoggedOnceAndListed() async throws {
        let bootstrapKey = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let (site, _, bootstrapPort) = try await BootstrapDaemonTests.site(bootstrapKey: bootstrapKey)
        let daemon = try site.startDaemon()
        #expect(await daemon.waitForOutput("bootstrap server listening"), "\(daemon.text)")
        let simulator = NBIoTDeviceSimulator(serverPort: 9)
        try simulator.start()
        defer { simulator.stop() }
        let events = Locked<[NBIoTDeviceSimulator.Event]>([])
        let collector = Task { for await event in simulator.events { events.withLock { $0.append(event) } } }
        defer { collector.cancel() }
        let device = simulator.add(.init(endpoint: BootstrapDaemonTests.imei, psk: [],
                                         bootstrap: .init(port: bootstrapPort, psk: bootstrapKey)))
        for round in 1...4 {
            simulator.bootstrap(device)
            #expect(await Eventually.wait(timeout: .seconds(15)) {
                events.withLock { $0.filter { if case .bootstrapped = $0 { true } else { false } }.count == round }
            }, "round \(round): \(daemon.text.suffix(3000))")
        }
        // Said once, when the third bootstrap in the window made it a loop; not again at the fourth.
        #expect(await daemon.waitForOutput("bootstrap loop"), "\(daemon.text.suffix(3000))")
        let loopLines = daemon.text.split(separator: "\n").filter { $0.contains("bootstrap loop") }
        #expect(loopLines.count == 1 && loopLines.first?.contains("bootstraps=3") == true, "\(loopLines)")

        let (listed, output) = try await BootstrapDaemonTests.edgegw(["provision", "list", "--config", site.fixture.configPath])
        #expect(listed == 0, "\(output)")
        #expect(output.contains("bootstrap loop at") && output.contains("(3 bootstraps in 10 min)"), "\(output)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        // The counts of the run, in the stop line.
        #expect(daemon.text.contains("bootstrap server stopped") && daemon.text.contains("loops=1"), "\(daemon.text.suffix(2000))")
    }
}
