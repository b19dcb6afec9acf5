import Foundation
import GatewayCore
import IoTDA
import PCP
import Testing
@testable import Upgrade

@Suite struct UpgradeServiceFlowTests {
    @Test func oneChildUpgradesFromNoticeToFinalReport() async throws {
        let rig = Rig(packageSize: 1_000)
        await rig.upgrade("meter-1")
        #expect(await rig.packages.prepared == ["meter-1"])
        #expect(await rig.service.phase(of: "meter-1") == .waitForDevice)

        await rig.service.deviceReported(nodeId: "meter-1")
        #expect(await rig.downlink.messages(to: "meter-1") == [.queryVersion])
        await rig.device("meter-1", sends: .versionReport(result: .success, version: "1.0"))
        #expect(await rig.downlink.messages(to: "meter-1").last
                == .newVersion(PCPNewVersion(targetVersion: "2.0", fragmentSize: 100, fragmentCount: 10, checkCode: 0)))

        await rig.device("meter-1", sends: .newVersionAnswer(.success))
        for index in 0..<10 {
            await rig.device("meter-1", sends: .fragmentRequest(targetVersion: "2.0", index: UInt16(index)))
        }
        let fragments = await rig.downlink.messages(to: "meter-1").compactMap { message -> [UInt8]? in
            if case .fragment(.success, _, let data) = message { return data } else { return nil }
        }
        #expect(fragments.flatMap { $0 } == rig.packages.data)
        #expect(await rig.reporter.finalReport("meter-1") == nil, "no final result before the device's 0x18")

        await rig.device("meter-1", sends: .downloadResult(.success))
        #expect(await Array(rig.downlink.messages(to: "meter-1").suffix(2)) == [.downloadResultAck(.success), .execute])
        await rig.device("meter-1", sends: .executeAnswer(.success))
        #expect(await rig.reporter.finalReport("meter-1") == nil)
        await rig.device("meter-1", sends: .upgradeResult(result: .success, version: "2.0"))
        #expect(await rig.downlink.messages(to: "meter-1").last == .upgradeResultAck(.success))

        let final = try #require(await rig.reporter.finalReport("meter-1"))
        #expect(final.resultCode == 0)
        #expect(final.version == "2.0")
        #expect(final.progress == 100)
        #expect(await rig.reporter.progressValues("meter-1").last == 100)
        let status = await rig.service.status()
        #expect(status.succeeded == 1 && status.failed == 0 && status.running == 0)
        #expect(status.fragmentsServed == 10 && status.bytesServed == 1_000)
        #expect(await rig.store.records.isEmpty, "a finished task leaves the store")
        #expect(await rig.service.hasActiveTask("meter-1") == false)
    }

    @Test func deviceAlreadyOnTargetSucceedsWithoutDownload() async throws {
        let rig = Rig()
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1", version: "2.0")
        let final = try #require(await rig.reporter.finalReport("meter-1"))
        #expect(final.resultCode == 0 && final.version == "2.0")
        #expect(await rig.downlink.count(where: isNewVersion) == 0)
    }

    @Test func refusalEndsTheTaskWithTheDevicesResult() async throws {
        let rig = Rig()
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        await rig.device("meter-1", sends: .newVersionAnswer(.insufficientSpace))
        let final = try #require(await rig.reporter.finalReport("meter-1"))
        #expect(final.resultCode == 5)
        #expect(final.version == "1.0")
        #expect(final.description?.contains("refused") == true)
        #expect(await rig.service.status().running == 0, "the slot is free again")
    }

    @Test func secondNoticeWhileOneRunsIsATaskConflict() async throws {
        let rig = Rig()
        await rig.upgrade("meter-1", version: "2.0")
        await rig.reportAndAnswer("meter-1")
        await rig.upgrade("meter-1", version: "3.0")
        let conflict = try #require(await rig.reporter.finalReport("meter-1"))
        #expect(conflict.resultCode == UpgradeResultCode.deviceInUse.rawValue)
        #expect(conflict.description?.contains("task conflict") == true)
        #expect(await rig.service.phase(of: "meter-1") == .notified, "the running task goes on")
        #expect(await rig.packages.prepared.count == 1)
        #expect(await rig.service.status().conflicts == 1)

        // The same notice again is the same task: no answer, no conflict.
        await rig.upgrade("meter-1", version: "2.0")
        #expect(await rig.reporter.progresses.count == 1)
        await rig.download("meter-1", count: 10)
        #expect(await rig.reporter.finalReport("meter-1")?.resultCode == 0)
    }

    @Test func requestWithoutTaskIsAnsweredNoTask() async {
        let rig = Rig()
        await rig.device("stray", sends: .fragmentRequest(targetVersion: "9.9", index: 3))
        await rig.device("stray", sends: .downloadResult(.success))
        #expect(await rig.downlink.messages(to: "stray") == [.fragment(result: .noTask, index: 3, data: []), .downloadResultAck(.noTask)])
        #expect(await rig.service.status().rejects == 2)
    }

    @Test func undeliveredRequestWaitsForTheNextReport() async {
        let rig = Rig()
        await rig.upgrade("meter-1")
        await rig.downlink.setReachable("meter-1", false)
        await rig.service.deviceReported(nodeId: "meter-1")
        await rig.advance(.seconds(30))
        #expect(await rig.downlink.attempts["meter-1"] == 1, "one attempt, no loop")
        await rig.downlink.setReachable("meter-1", true)
        await rig.service.deviceReported(nodeId: "meter-1")
        #expect(await rig.downlink.messages(to: "meter-1") == [.queryVersion])
    }

    @Test func undecodableFrameIsCountedNotFatal() async {
        let rig = Rig()
        await rig.service.pcpFrame([0xFF, 0xFE, 0x01], nodeId: "meter-1")
        #expect(await rig.service.status().decodeFailures == 1)
        #expect(await rig.downlink.sent.isEmpty)
    }
}

@Suite struct UpgradePreparingTests {
    func startHeld(_ rig: Rig) async {
        await rig.packages.hold()
        await rig.service.upgrade(nodeId: "meter-1", notice: Rig.notice(), product: rig.product)
        for _ in 0..<2_000 where await rig.packages.held.isEmpty { try? await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func deviceThatReportedDuringTheDownloadIsQueriedWhenThePackageIsReady() async throws {
        let rig = Rig()
        await startHeld(rig)
        await rig.service.deviceReported(nodeId: "meter-1")
        #expect(await rig.downlink.sent.isEmpty, "no machine before the package is known")
        await rig.advance(.seconds(20))
        await rig.packages.release()
        await rig.service.settle()
        #expect(await rig.downlink.messages(to: "meter-1") == [.queryVersion])
        #expect(await rig.service.phase(of: "meter-1") == .queryVersion)
    }

    @Test func deviceThatReportedLongBeforeWaitsForItsNextReport() async throws {
        let rig = Rig()
        await startHeld(rig)
        await rig.service.deviceReported(nodeId: "meter-1")
        await rig.advance(.seconds(31))
        await rig.packages.release()
        await rig.service.settle()
        #expect(await rig.downlink.sent.isEmpty)
        #expect(await rig.service.phase(of: "meter-1") == .waitForDevice)
    }
}
