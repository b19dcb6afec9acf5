import Foundation
import GatewayCore
import IoTDA
import PCP
import Testing
@testable import Upgrade

@Suite struct UpgradeRunLoopTests {
    /// Waits (bounded) until `condition` holds, letting the run loop's tasks proceed.
    func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<2_000 {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return await condition()
    }

    @Test func runSleepsUntilTheEarliestDeadlineAndFinishReturns() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(retryCount: 0))
        let runner = Task { await rig.service.run() }
        #expect(await eventually { rig.manual.sleeperCount == 1 })
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        #expect(await rig.notified("meter-1"))
        // The loop sleeps until the earliest deadline (the task's 60-minute download timer) and
        // fires it then, not a second earlier.
        rig.manual.advance(by: .seconds(59 * 60))
        #expect(await eventually { rig.manual.sleeperCount == 1 })
        #expect(await rig.reporter.finalReport("meter-1") == nil)
        rig.manual.advance(by: .seconds(60))
        #expect(await eventually { await rig.reporter.finalReport("meter-1")?.resultCode == 6 })

        await rig.service.finish()
        #expect(await eventually { runner.isCancelled || rig.manual.sleeperCount == 0 })
        await runner.value
    }

    @Test func delayedFragmentsGoOutFromTheRunLoop() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(maxFragmentsPerSecond: 2))
        let runner = Task { await rig.service.run() }
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        for index in 0..<4 {
            await rig.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: UInt16(index)))
        }
        #expect(await rig.downlink.count(where: isFragment) == 2)
        #expect(await eventually { rig.manual.sleeperCount == 1 })
        rig.manual.advance(by: .seconds(1))
        #expect(await eventually { await rig.downlink.count(where: isFragment) == 4 })
        await rig.service.finish()
        await runner.value
    }
}
