import Foundation
import GatewayCore
import LwM2MSimulator
import Testing
import TestSupport

/// A module that bootstraps again and again (Huawei's driver reboots it when no Observe comes):
/// the daemon says so once, with the count, and `edgegw provision list` shows the loop; once the
/// module is observed the loop is over.
@Suite(.serialized) struct BootstrapLoopDaemonTests {
    @Test func aModuleBootstrappingAgainAndAgainIsLoggedOnceListedAndOverOnceObserved() async throws {
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
        // Announcing no data resource, the module is never observed: it comes back to bootstrap.
        let unobserved = simulator.add(.init(endpoint: BootstrapDaemonTests.imei, psk: [], objectLinks: "</1/0>,</3/0>",
                                             bootstrap: .init(port: bootstrapPort, psk: bootstrapKey)))
        var rounds = 0
        func bootstrapOnce(_ device: Int) async {
            rounds += 1
            let expected = rounds
            simulator.bootstrap(device)
            #expect(await Eventually.wait(timeout: .seconds(15)) {
                events.withLock { $0.filter { if case .bootstrapped = $0 { true } else { false } }.count == expected }
            }, "round \(expected): \(daemon.text.suffix(3000))")
        }
        for _ in 1...3 { await bootstrapOnce(unobserved) }
        // Said once, when the third bootstrap in the window made it a loop.
        #expect(await daemon.waitForOutput("bootstrap loop:"), "\(daemon.text.suffix(3000))")
        var loopLines = daemon.text.split(separator: "\n").filter { $0.contains("bootstrap loop:") }
        #expect(loopLines.count == 1 && loopLines.first?.contains("bootstraps=3") == true, "\(loopLines)")
        let (listed, output) = try await BootstrapDaemonTests.edgegw(["provision", "list", "--config", site.fixture.configPath])
        #expect(listed == 0, "\(output)")
        #expect(output.contains("bootstrap loop at") && output.contains("(3 bootstraps in 10 min)"), "\(output)")

        // Observed once, the loop is over: three more bootstraps without an Observe are a new loop, said again.
        let observed = simulator.add(.init(endpoint: BootstrapDaemonTests.imei, psk: [],
                                           bootstrap: .init(port: bootstrapPort, psk: bootstrapKey)))
        let before = events.withLock { $0.count }
        await bootstrapOnce(observed)
        #expect(await Eventually.wait(timeout: .seconds(15)) {
            events.withLock { $0.dropFirst(before).contains { if case .observed = $0 { true } else { false } } }
        }, "\(daemon.text.suffix(3000))")
        #expect(await daemon.waitForOutput("bootstrap loop over"), "\(daemon.text.suffix(3000))")
        for _ in 1...3 { await bootstrapOnce(unobserved) }
        #expect(await Eventually.wait(timeout: .seconds(15)) {
            daemon.text.split(separator: "\n").filter { $0.contains("bootstrap loop:") }.count == 2
        }, "\(daemon.text.suffix(3000))")
        loopLines = daemon.text.split(separator: "\n").filter { $0.contains("bootstrap loop:") }
        #expect(loopLines.last?.contains("bootstraps=3") == true, "\(loopLines)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
        // The counts of the run, in the stop line.
        #expect(daemon.text.contains("bootstrap server stopped") && daemon.text.contains("loops=2"), "\(daemon.text.suffix(2000))")
    }
}
