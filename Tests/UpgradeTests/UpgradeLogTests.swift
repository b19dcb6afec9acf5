import Foundation
import GatewayCore
import PCP
import TestSupport
import Testing
@testable import Upgrade

@Suite struct UpgradeLogTests {
    @Test func aTechnicianFollowsOneUpgradeLineByLine() async throws {
        let log = LogRecorder()
        let rig = Rig(packageSize: 1_000, log: log)
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        await rig.download("meter-1", count: 10)

        let transitions = log.lines(containing: "PCP upgrade")
        #expect(transitions.count == 9)
        for (expected, line) in zip(["created → PREPARING", "created → WAIT_FOR_DEVICE", "WAIT_FOR_DEVICE → QUERY_VERSION",
                                     "QUERY_VERSION → WAIT_FOR_PERMIT", "WAIT_FOR_PERMIT → NOTIFIED", "NOTIFIED → DOWNLOADING",
                                     "DOWNLOADING → EXECUTING", "EXECUTING → WAIT_RESULT",
                                     "WAIT_RESULT → SUCCEEDED"], transitions) {
            #expect(line.contains(expected), "\(line)")
            #expect(line.hasPrefix("info meter-1: "))
        }
        #expect(log.entries.filter { $0.metadata["node"] == "meter-1" }.count == log.count, "every line names its node")
        #expect(log.lines(containing: "upgrade finished: result 0, version 2.0").count == 1)
        #expect(log.lines(containing: "meter-1: fragment ").isEmpty, "fragments only at debug")
    }

    @Test func requestsWithoutTaskAreLoggedOncePerRun() async throws {
        let log = LogRecorder()
        let rig = Rig(log: log)
        for _ in 0..<20 { await rig.device("stray", sends: .fragmentRequest(targetVersion: "1.0", index: 0)) }
        #expect(log.lines(containing: "without an upgrade task").count == 1)
        #expect(await rig.service.status().rejects == 20)
        await rig.advance(.seconds(11 * 60))
        await rig.device("stray", sends: .fragmentRequest(targetVersion: "1.0", index: 0))
        #expect(log.lines(containing: "without an upgrade task").count == 2, "a new run after 10 quiet minutes")
    }

    @Test func aFailureSaysResultAndWhy() async throws {
        let log = LogRecorder()
        let rig = Rig(log: log)
        await rig.upgrade("meter-1")
        await rig.reportAndAnswer("meter-1")
        await rig.device("meter-1", sends: .newVersionAnswer(.lowBattery))
        // Low battery is worth a retry: the attempt fails, the task waits 5 min.
        #expect(log.lines(containing: "NOTIFIED → RETRY_WAIT").count == 1)
        #expect(await rig.service.status().running == 0, "a failed attempt gives its slot back")
        await rig.advance(.seconds(5 * 60))
        #expect(log.lines(containing: "RETRY_WAIT → WAIT_FOR_DEVICE").count == 1)
    }
}
