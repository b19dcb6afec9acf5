import Testing
import GatewayCore
@testable import PCP

/// The task from the device's first report to its end, and every refusal code.
@Suite struct PCPUpgradeFlowTests {
    typealias H = UpgradeHarness

    @Test func aFullUpgradeSendsTheMessagesInTheSpecsOrder() {
        var h = H()
        #expect(h.handle(.deviceReported).sent == [.queryVersion])
        let report = h.receive(.versionReport(result: .success, version: H.current))
        #expect(report.wantsToStart)
        #expect(h.phase == .waitForPermit)
        #expect(h.machine.lastReportedVersion == H.current)
        let notify = h.handle(.startPermitted)
        #expect(notify.sent == [.newVersion(PCPNewVersion(targetVersion: H.target, fragmentSize: 100, fragmentCount: 10, checkCode: 0))])
        #expect(h.phase == .notified)
        h.receive(.newVersionAnswer(.success))
        #expect(h.phase == .downloading)
        var progress: [Int] = []
        for index in UInt16(0)..<10 {
            let answer = h.receive(.fragmentRequest(targetVersion: H.target, index: index))
            #expect(answer.served == [index])
            progress += answer.progress
        }
        #expect(progress == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
        let downloaded = h.receive(.downloadResult(.success))
        #expect(downloaded.sent == [.downloadResultAck(.success), .execute])
        #expect(h.phase == .executing)
        #expect(h.receive(.executeAnswer(.success)).sent.isEmpty)
        #expect(h.phase == .waitResult)
        let result = h.receive(.upgradeResult(result: .success, version: H.target))
        #expect(result.sent == [.upgradeResultAck(.success)])
        #expect(h.phase == .succeeded)
        #expect(result.finished?.result == .success)
        #expect(result.finished?.version == H.target)
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func everyPhaseChangeIsLoggedOnce() {
        var h = H()
        var logged: [PCPUpgradePhase?] = [nil]
        logged += h.handle(.deviceReported).transitions.map(\.to)
        logged += h.receive(.versionReport(result: .success, version: H.current)).transitions.map(\.to)
        logged += h.handle(.startPermitted).transitions.map(\.to)
        logged += h.receive(.fragmentRequest(targetVersion: H.target, index: 0)).transitions.map(\.to)
        logged += h.receive(.downloadResult(.success)).transitions.map(\.to)
        logged += h.receive(.executeAnswer(.success)).transitions.map(\.to)
        logged += h.receive(.upgradeResult(result: .success, version: H.target)).transitions.map(\.to)
        #expect(logged == [nil, .queryVersion, .waitForPermit, .notified, .downloading, .executing, .waitResult, .succeeded])
    }

    @Test func aNewTaskLogsItsCreationAndArmsThe24HourTimer() {
        let clock = ManualClock()
        clock.advance(by: .seconds(42))
        let (machine, actions) = Machine.create(settings: H.settings(), now: clock.now)
        #expect(machine.phase == .waitForDevice)
        #expect(actions.transitions.map(\.from) == [nil])
        #expect(actions.transitions.map(\.to) == [.waitForDevice])
        #expect(actions.contains(.schedule(clock.now.advanced(by: .seconds(86_400)))))
        #expect(machine.nextDeadline == clock.now.advanced(by: .seconds(86_400)))
    }

    @Test func theTargetVersionAlreadyRunningEndsWithSuccessAndNoUpgrade() {
        var h = H()
        h.toQueryVersion()
        let actions = h.receive(.versionReport(result: .success, version: H.target + "\0\0\0"))
        #expect(h.phase == .succeeded)
        #expect(actions.finished?.result == .success)
        #expect(actions.finished?.version == H.target)
        #expect(actions.finished?.description.contains("no upgrade needed") == true)
        #expect(!actions.wantsToStart)
        #expect(actions.sent.isEmpty)
    }

    @Test func aVersionQueryAnsweredWithAnErrorFailsTheAttempt() {
        var h = H()
        h.toQueryVersion()
        let actions = h.receive(.versionReport(result: .internalError, version: ""))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .internalError)
        #expect(h.machine.lastReportedVersion == nil)
    }

    @Test func anyDeviceMessageCountsAsAReport() {
        var h = H()
        let actions = h.receive(.executeAnswer(.success))
        #expect(actions.sent == [.queryVersion])
        #expect(h.phase == .queryVersion)
    }

    @Test func theNotificationCarriesTheProductsFragmentSizeAndCheckCode() throws {
        let settings = try PCPUpgradeSettings(targetVersion: H.target, packageSize: 1_001, fragmentSize: 117, checkCode: 0xABCD)
        var h = H(settings)
        h.toWaitForPermit()
        #expect(h.handle(.startPermitted).sent == [.newVersion(PCPNewVersion(targetVersion: H.target, fragmentSize: 117, fragmentCount: 9, checkCode: 0xABCD))])
    }

    @Test func aStartPermitOutsideWaitForPermitDoesNothing() {
        var h = H()
        #expect(h.handle(.startPermitted).isEmpty)
        h.toDownloading()
        #expect(h.handle(.startPermitted).isEmpty)
    }

    @Test(arguments: [0x01, 0x02, 0x03, 0x04, 0x05, 0x09, 0x7F] as [UInt8])
    func aRefusedNotificationEndsTheTaskWithItsResult(code: UInt8) {
        var h = H()
        h.toNotified()
        let actions = h.receive(.newVersionAnswer(PCPResult(code)))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == PCPResult(code))
        #expect(actions.finished?.description == "the device refused the new version: \(PCPResult(code).meaning)")
        #expect(actions.finished?.version == H.current)
    }

    @Test(arguments: [(0x01, true), (0x02, true), (0x03, false), (0x04, true), (0x05, false), (0x09, true), (0x7F, true)] as [(UInt8, Bool)])
    func transientRefusalsAreRetried(code: UInt8, retried: Bool) {
        var h = H(H.settings(retries: 2))
        h.toNotified()
        let actions = h.receive(.newVersionAnswer(PCPResult(code)))
        #expect(h.phase == (retried ? .retryWait : .failed))
        #expect((actions.finished == nil) == retried)
    }

    @Test func theRetryPolicyNamesTransientConditions() {
        let transient: [PCPResult] = [.deviceInUse, .poorSignal, .lowBattery, .downloadTimeout, .insufficientMemory, .internalError]
        let final: [PCPResult] = [.alreadyLatest, .insufficientSpace, .verificationFailed, .packageTypeUnsupported, .installFailed, PCPResult(0x42)]
        #expect(transient.allSatisfy(PCPUpgradeRetryPolicy.isTransient))
        #expect(!final.contains(where: PCPUpgradeRetryPolicy.isTransient))
    }

    @Test(arguments: [0x05, 0x06, 0x07, 0x08] as [UInt8])
    func aFailedDownloadEndsTheTaskWithItsStatus(code: UInt8) {
        var h = H()
        h.toDownloading()
        let actions = h.receive(.downloadResult(PCPResult(code)))
        #expect(actions.sent == [.downloadResultAck(.success)])
        #expect(!actions.sent.contains(.execute))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == PCPResult(code))
        #expect(actions.finished?.description.contains(PCPResult(code).meaning) == true)
    }

    @Test(arguments: [0x01, 0x04, 0x05, 0x09] as [UInt8])
    func aRefusedExecuteEndsTheTaskWithItsResult(code: UInt8) {
        var h = H()
        h.toExecuting()
        let actions = h.receive(.executeAnswer(PCPResult(code)))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == PCPResult(code))
        #expect(actions.finished?.description.contains("refused to execute") == true)
    }

    @Test(arguments: [0x01, 0x04, 0x05, 0x09, 0x0A, 0x7F] as [UInt8])
    func aFailedUpgradeEndsTheTaskWithItsResult(code: UInt8) {
        var h = H()
        h.toWaitResult()
        let actions = h.receive(.upgradeResult(result: PCPResult(code), version: H.current))
        #expect(actions.sent == [.upgradeResultAck(.success)])
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == PCPResult(code))
        #expect(actions.finished?.version == H.current)
    }

    @Test func successWithAnotherVersionIsAnInstallFailureAndNotRetried() {
        var h = H(H.settings(retries: 2))
        h.toWaitResult()
        let actions = h.receive(.upgradeResult(result: .success, version: H.current))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .installFailed)
        #expect(actions.finished?.description.contains("runs \"\(H.current)\" instead of \(H.target)") == true)
    }

    @Test func anUpgradeResultWithoutTheExecuteAnswerIsTaken() {
        var h = H()
        h.toExecuting()
        let actions = h.receive(.upgradeResult(result: .success, version: H.target))
        #expect(h.phase == .succeeded)
        #expect(actions.finished?.result == .success)
    }

    @Test func aCancelledTaskEndsAndLaterRequestsGet0x80() {
        var h = H()
        h.toDownloading()
        let actions = h.handle(.cancel(.withdrawn))
        #expect(h.phase == .cancelled)
        #expect(actions.finished?.description == "the cloud withdrew the upgrade task")
        #expect(h.machine.nextDeadline == nil)
        #expect(h.receive(.fragmentRequest(targetVersion: H.target, index: 1)).rejects.first?.0 == .fragment(result: .noTask, index: 1, data: []))
        #expect(h.receive(.downloadResult(.success)).rejects.first?.0 == .downloadResultAck(.noTask))
        #expect(h.receive(.upgradeResult(result: .success, version: H.target)).rejects.first?.0 == .upgradeResultAck(.noTask))
        #expect(h.handle(.cancel(.withdrawn)).isEmpty)
    }

    @Test func aPackageThatFailsVerificationFailsTheTaskWith7() {
        var h = H(H.settings(retries: 2))
        h.toWaitForPermit()
        let actions = h.handle(.cancel(.packageVerificationFailed))
        #expect(h.phase == .failed)
        #expect(actions.finished?.result == .verificationFailed)
        #expect(h.handle(.startPermitted).isEmpty)
    }
}
