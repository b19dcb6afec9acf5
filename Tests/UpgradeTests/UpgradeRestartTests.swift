import Foundation
import GatewayCore
import IoTDA
import PCP
import Store
import TestSupport
import Testing
@testable import Upgrade

@Suite struct UpgradeRestartTests {
    @Test func restartMidDownloadContinuesWithoutNotifyingAgain() async throws {
        let store = InMemoryUpgradeTaskStore()
        let first = Rig(packageSize: 1_000, store: store)
        await first.upgrade("meter-1")
        await first.reportAndAnswer("meter-1")
        for index in 0..<4 {
            await first.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: UInt16(index)))
        }
        await first.service.finish()
        let record = try #require(await store.records["meter-1"])
        #expect(record.snapshot?.phase == .downloading)
        #expect(record.package == PackageIdentity("pkg-1"))

        // A new daemon, 10 minutes later by the wall clock.
        let second = Rig(packageSize: 1_000, store: store)
        second.manual.advance(by: .seconds(600))
        #expect(await second.service.restore() == 1)
        await second.service.settle()
        #expect(await second.packages.prepared == ["meter-1"], "the package is asked for again")
        #expect(await second.service.phase(of: "meter-1") == .downloading)
        #expect(await second.service.status().running == 1, "the restored download keeps its slot")
        for index in 4..<10 {
            await second.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: UInt16(index)))
        }
        await second.device("meter-1", sends: .downloadResult(.success))
        await second.device("meter-1", sends: .executeAnswer(.success))
        await second.device("meter-1", sends: .upgradeResult(result: .success, version: "2.0"))
        #expect(await second.downlink.count(where: isNewVersion) == 0, "no second notification")
        #expect(await second.downlink.count(where: { $0 == .queryVersion }) == 0)
        #expect(await second.downlink.count(where: isFragment) == 6)
        #expect(await second.reporter.finalReport("meter-1")?.resultCode == 0)
        #expect(await store.records.isEmpty)
    }

    @Test func restoredTaskWhosePackageIsGoneEndsWithTheSourcesResult() async throws {
        let store = InMemoryUpgradeTaskStore()
        let first = Rig(store: store)
        await first.upgrade("meter-1")
        await first.reportAndAnswer("meter-1")
        await first.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: 0))
        await first.service.finish()

        let second = Rig(answer: .failed(.internalError, description: "package evicted and its URL expired"), store: store)
        await second.service.restore()
        await second.service.settle()
        let final = try #require(await second.reporter.finalReport("meter-1"))
        #expect(final.resultCode == 255)
        #expect(final.description?.contains("expired") == true)
        await second.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: 1))
        #expect(await second.downlink.messages(to: "meter-1") == [.fragment(result: .noTask, index: 1, data: [])])
        #expect(await second.service.status().running == 0)
    }

    @Test func restoredTimersCountTheDowntime() async throws {
        let store = InMemoryUpgradeTaskStore()
        let first = Rig(config: GatewayConfig.Upgrade(retryCount: 0), store: store)
        await first.upgrade("meter-1")
        await first.reportAndAnswer("meter-1")
        await first.service.finish()

        // Down for 61 minutes: the 60-minute download timer ran out meanwhile.
        let second = Rig(config: GatewayConfig.Upgrade(retryCount: 0), store: store)
        second.manual.advance(by: .seconds(61 * 60))
        await second.service.restore()
        #expect(await second.reporter.finalReport("meter-1")?.resultCode == 6)
    }

    @Test func sqliteStoreKeepsRecordsAcrossOpens() async throws {
        let directory = TemporaryDirectory(prefix: "edgegw-upgrade")
        let record = UpgradeTaskRecord(
            notice: StoredNotice(Rig.notice()), fragmentSize: 100, checkCode: 7, package: PackageIdentity("pkg-1"),
            packageSize: 1_000, snapshot: nil, permitted: false, savedAt: Date(timeIntervalSince1970: 1_767_225_600))
        do {
            let tasks = StoredUpgradeTasks(try StateStore(directory: directory.path))
            await tasks.save(nodeId: "meter-1", record)
            await tasks.save(nodeId: "meter-2", record)
            await tasks.remove(nodeId: "meter-2")
        }
        let reopened = StoredUpgradeTasks(try StateStore(directory: directory.path))
        let loaded = await reopened.loadAll()
        #expect(loaded == ["meter-1": record])
        #expect(loaded["meter-1"]?.notice.notice == Rig.notice())
    }

    @Test func sqliteRecordWithSnapshotRoundTrips() async throws {
        let rig = Rig()
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        let record = try #require(await rig.store.records["meter-1"])
        #expect(record.snapshot?.phase == .notified)
        let directory = TemporaryDirectory(prefix: "edgegw-upgrade")
        let tasks = StoredUpgradeTasks(try StateStore(directory: directory.path))
        await tasks.save(nodeId: "meter-1", record)
        #expect(await tasks.loadAll()["meter-1"] == record)
    }
}

@Suite struct UpgradeVersionQueryTests {
    @Test func answeredFromTheLastReportedVersion() async throws {
        let rig = Rig()
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1", version: "1.4")
        await rig.service.versionQuery(nodeId: "meter-1")
        #expect(await rig.reporter.versions.map(\.report) == [VersionReport(swVersion: "1.4")])
        #expect(await rig.downlink.count(where: { $0 == .queryVersion }) == 1, "no second 0x13")
    }

    @Test func unknownVersionIsQueriedAndReportedWhenTheDeviceAnswers() async throws {
        let rig = Rig()
        await rig.service.versionQuery(nodeId: "meter-1")
        #expect(await rig.downlink.messages(to: "meter-1") == [.queryVersion])
        #expect(await rig.reporter.versions.isEmpty)
        await rig.advance(.seconds(60))
        await rig.device("meter-1", sends: .versionReport(result: .success, version: "1.1"))
        #expect(await rig.reporter.versions.map(\.report) == [VersionReport(swVersion: "1.1")])
    }

    @Test func sleepingDeviceGetsTheQueryOnItsNextReport() async throws {
        let rig = Rig()
        await rig.downlink.setReachable("meter-1", false)
        await rig.service.versionQuery(nodeId: "meter-1")
        await rig.downlink.setReachable("meter-1", true)
        await rig.advance(.seconds(100))
        await rig.service.deviceReported(nodeId: "meter-1")
        #expect(await rig.downlink.messages(to: "meter-1") == [.queryVersion])
    }

    @Test func noAnswerWithinThreeMinutesReportsNothing() async throws {
        let rig = Rig()
        await rig.service.versionQuery(nodeId: "meter-1")
        await rig.advance(.seconds(180))
        await rig.device("meter-1", sends: .versionReport(result: .success, version: "1.1"))
        #expect(await rig.reporter.versions.isEmpty, "the window is over")
        await rig.service.versionQuery(nodeId: "meter-1")
        #expect(await rig.reporter.versions.map(\.report) == [VersionReport(swVersion: "1.1")], "later queries use what it said")
    }
}
