import Foundation
import GatewayCore
import IoTDA
import PCP
import Testing
@testable import Upgrade

@Suite struct UpgradeFanOutServiceTests {
    @Test func hundredChildrenUnderAGlobalCapOfTen() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(maxConcurrentUpgrades: 10, maxFragmentsPerSecond: 100_000), packageSize: 300)
        let nodes = (0..<100).map { "meter-\($0)" }
        for node in nodes { await rig.upgrade(node) }
        #expect(await rig.packages.prepared.count == 100)

        var finished: Set<String> = []
        var maxNotifiedAtOnce = 0
        var rounds = 0
        while finished.count < nodes.count && rounds < 50 {
            rounds += 1
            // Every device reports (PSM: reachable now); the ones notified download and finish.
            for node in nodes where !finished.contains(node) {
                if await rig.service.phase(of: node) == .waitForDevice {
                    await rig.reportAndAnswer(node)
                } else {
                    await rig.service.deviceReported(nodeId: node)
                }
            }
            let notified = await rig.downlink.nodes(receiving: isNewVersion).subtracting(finished)
            maxNotifiedAtOnce = max(maxNotifiedAtOnce, notified.count)
            #expect(await rig.service.status().running <= 10)
            for node in notified.sorted() {
                await rig.download(node, count: 3)
                finished.insert(node)
            }
        }
        #expect(maxNotifiedAtOnce == 10)
        #expect(finished.count == 100)
        let finals = await rig.reporter.finals()
        #expect(finals.count == 100)
        #expect(finals.values.allSatisfy { $0.resultCode == 0 && $0.version == "2.0" })
        #expect(await rig.downlink.count(where: isNewVersion) == 100, "each child notified once")
    }

    @Test func aCellOfLevelTwoDevicesUpgradesOneAtATime() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(maxConcurrentUpgrades: 100, unknownCellCap: 2), packageSize: 200)
        let weak = (0..<4).map { "weak-\($0)" }
        let strong = (0..<3).map { "strong-\($0)" }
        let unknown = (0..<4).map { "unknown-\($0)" }
        for node in weak { await rig.service.radioConditions(RadioConditions(rsrp: -125, sinr: -5, cellId: "A"), nodeId: node) }
        for node in strong { await rig.service.radioConditions(RadioConditions(rsrp: -80, sinr: 20, cellId: "B"), nodeId: node) }
        for node in weak + strong + unknown {
            await rig.upgrade(node)
            await rig.reportAndAnswer(node)
        }
        let notified = await rig.downlink.nodes(receiving: isNewVersion)
        #expect(notified.intersection(weak).count == 1, "level 2: one device of the cell at a time")
        #expect(notified.intersection(strong).count == 3, "another cell is not held up")
        #expect(notified.intersection(unknown).count == 2, "unknown cell: the configured cap")

        // The weak cell's devices follow one after the other.
        var done: Set<String> = []
        for _ in 0..<weak.count {
            let running = await rig.downlink.nodes(receiving: isNewVersion).intersection(weak).subtracting(done)
            #expect(running.count == 1)
            let node = try #require(running.first)
            await rig.download(node, count: 2)
            done.insert(node)
            for other in weak where !done.contains(other) { await rig.service.deviceReported(nodeId: other) }
        }
        #expect(done.count == weak.count)
    }

    @Test func fragmentsOverTheBudgetAreServedLaterNeverDropped() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(maxFragmentsPerSecond: 10), packageSize: 3_000)
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        for index in 0..<30 {
            await rig.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: UInt16(index)))
        }
        #expect(await rig.downlink.count(where: isFragment) == 10, "one second's budget at once")
        // A repeated request for a fragment already waiting is not queued twice.
        await rig.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: 29))
        #expect(await rig.service.status().fragmentsDelayed == 20)
        await rig.advance(.milliseconds(500))
        #expect(await rig.downlink.count(where: isFragment) == 15)
        await rig.advance(.milliseconds(500))
        #expect(await rig.downlink.count(where: isFragment) == 20)
        await rig.advance(.seconds(1))
        let indexes = await rig.downlink.messages(to: "meter-1").compactMap { message -> UInt16? in
            if case .fragment(.success, let index, _) = message { return index } else { return nil }
        }
        #expect(indexes == (0..<30).map { UInt16($0) }, "every request answered, in order")
    }

    @Test func packageFailingVerificationEndsEveryChildWithSevenAndServesNothing() async throws {
        let rig = Rig(answer: .failed(.verificationFailed, description: "SHA-256 of the download differs from sign"))
        let nodes = ["a", "b", "c"]
        for node in nodes { await rig.upgrade(node) }
        for node in nodes {
            await rig.service.deviceReported(nodeId: node)
            await rig.device(node, sends: .fragmentRequest(targetVersion: "2.0", index: 0))
        }
        let finals = await rig.reporter.finals()
        #expect(Set(finals.keys) == Set(nodes))
        #expect(finals.values.allSatisfy { $0.resultCode == 7 })
        #expect(finals.values.allSatisfy { $0.description?.contains("SHA-256") == true })
        #expect(await rig.packages.fragmentReads == 0)
        #expect(await rig.downlink.count(where: isFragment) == 0)
        #expect(await rig.downlink.count(where: isNewVersion) == 0)
        #expect(await rig.service.status().failed == 3)
    }

    @Test func verificationFailureOfAKnownPackageCancelsItsTasks() async throws {
        let rig = Rig()
        for node in ["a", "b"] {
            await rig.upgrade(node)
            await rig.reportAndAnswer(node)
        }
        await rig.service.packageFailed(identity: PackageIdentity("pkg-1"), result: .verificationFailed, description: "re-check failed")
        let finals = await rig.reporter.finals()
        #expect(finals["a"]?.resultCode == 7 && finals["b"]?.resultCode == 7)
        await rig.device("a", sends: .fragmentRequest(targetVersion: "2.0", index: 0))
        #expect(await rig.downlink.count(where: isFragment) == 0)
    }

    @Test func unreachableURLEndsTheChildrenWithTheSourcesResult() async throws {
        let rig = Rig(answer: .failed(.internalError, description: "package server unreachable: connection refused"))
        await rig.upgrade("a")
        let final = try #require(await rig.reporter.finalReport("a"))
        #expect(final.resultCode == 255)
        #expect(final.description?.contains("unreachable") == true)
    }

    @Test func aVanishedDeviceEndsByItsTimerWhileOthersFinish() async throws {
        let rig = Rig(config: GatewayConfig.Upgrade(maxConcurrentUpgrades: 2, retryCount: 0), packageSize: 500)
        for node in ["gone", "b", "c"] {
            await rig.upgrade(node)
            await rig.reportAndAnswer(node)
        }
        #expect(await rig.notified("gone"))
        #expect(await rig.notified("b"))
        #expect(await rig.notified("c") == false)
        // "gone" takes two fragments and goes silent.
        await rig.device("gone", sends: .fragmentRequest(targetVersion: "2.0", index: 0))
        await rig.device("gone", sends: .fragmentRequest(targetVersion: "2.0", index: 1))
        await rig.download("b", count: 5)
        #expect(await rig.notified("c") == false, "c sleeps: its permit waits for its next report")
        await rig.service.deviceReported(nodeId: "c")
        #expect(await rig.notified("c"), "b's slot went to c")
        await rig.download("c", count: 5)
        #expect(await rig.reporter.finalReport("b")?.resultCode == 0)
        #expect(await rig.reporter.finalReport("c")?.resultCode == 0)
        #expect(await rig.reporter.finalReport("gone") == nil)

        await rig.advance(.seconds(59 * 60 + 59))
        #expect(await rig.reporter.finalReport("gone") == nil)
        await rig.advance(.seconds(1))
        let final = try #require(await rig.reporter.finalReport("gone"))
        #expect(final.resultCode == 6)
        #expect(await rig.service.status().running == 0)
    }
}
