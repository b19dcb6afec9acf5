import GatewayCore
@testable import LwM2MSimulator
import PCP
import Testing

/// The simulated module's PCP state machine alone, to the millisecond with a hand-moved instant.
struct PCPDeviceSideTests {
    typealias Side = PCPDeviceSide<OffsetInstant>
    static let t0 = OffsetInstant(offset: .seconds(100))
    static let notice = PCPNewVersion(targetVersion: "V2.0", fragmentSize: 32, fragmentCount: 2)
    static let package: [UInt8] = (0..<40).map { UInt8($0) }

    static func at(_ seconds: Double) -> OffsetInstant { t0.advanced(by: .seconds(seconds)) }
    static func sent(_ actions: [Side.Action]) -> [PCPMessage] {
        actions.compactMap { if case .send(let message) = $0 { message } else { nil } }
    }
    static func fragment(_ index: Int) -> PCPMessage {
        .fragment(result: .success, index: UInt16(index), data: Array(package[(index * 32)..<min(index * 32 + 32, 40)]))
    }

    @Test func anUnansweredFragmentRequestIsRetriedEveryIntervalThenTheDownloadTimesOut() {
        var side = Side(personality: PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: .seconds(2), fragmentRetries: 2))
        #expect(Self.sent(side.received(.newVersion(Self.notice), at: Self.t0))
                == [.newVersionAnswer(.success), .fragmentRequest(targetVersion: "V2.0", index: 0)])
        #expect(Self.sent(side.tick(at: Self.at(1.999))).isEmpty)
        #expect(Self.sent(side.tick(at: Self.at(2))) == [.fragmentRequest(targetVersion: "V2.0", index: 0)])
        #expect(Self.sent(side.tick(at: Self.at(3.999))).isEmpty)
        #expect(Self.sent(side.tick(at: Self.at(4))) == [.fragmentRequest(targetVersion: "V2.0", index: 0)])
        let gaveUp = side.tick(at: Self.at(6))
        #expect(Self.sent(gaveUp) == [.downloadResult(.downloadTimeout)])
        #expect(gaveUp.contains(.event(.downloadStopped(.downloadTimeout))))
        #expect(Self.sent(side.tick(at: Self.at(60))).isEmpty)
    }

    @Test func aModuleWhoseServerStopsAnsweringReconnectsAndResumesOnceObserved() {
        var side = Side(personality: PCPPersonality(softwareVersion: "V1.0", fragmentRetryInterval: .seconds(1), fragmentRetries: 1,
                                                    reconnectWhenUnanswered: true))
        _ = side.received(.newVersion(Self.notice), at: Self.t0)
        _ = side.received(Self.fragment(0), at: Self.at(0.5))
        #expect(Self.sent(side.tick(at: Self.at(1.5))) == [.fragmentRequest(targetVersion: "V2.0", index: 1)])
        let lost = side.tick(at: Self.at(2.5))
        #expect(Self.sent(lost).isEmpty, "no download timeout: the module reconnects instead")
        #expect(lost == [.event(.serverLost(held: 1)), .powerOff, .powerOn])
        #expect(Self.sent(side.tick(at: Self.at(30))).isEmpty)
        #expect(Self.sent(side.observed(at: Self.at(31))) == [.fragmentRequest(targetVersion: "V2.0", index: 1)])
        let done = side.received(Self.fragment(1), at: Self.at(31.5))
        #expect(Self.sent(done) == [.downloadResult(.success)])
    }

    @Test func powerComesBackOnItsTimerAndTheDownloadResumesOnceObserved() {
        var side = Side(personality: PCPPersonality(softwareVersion: "V1.0", powerLoss: .init(afterFragments: 1, restoreAfter: .seconds(10))))
        _ = side.received(.newVersion(Self.notice), at: Self.t0)
        let cut = side.received(Self.fragment(0), at: Self.at(1))
        #expect(cut.contains(.powerOff))
        #expect(cut.contains(.event(.powerLost(held: 1))))
        #expect(Self.sent(cut).isEmpty)
        // No power: nothing is retried, nothing is answered.
        #expect(side.tick(at: Self.at(10.999)).isEmpty)
        #expect(side.received(.queryVersion, at: Self.at(5)).isEmpty)
        let back = side.tick(at: Self.at(11))
        #expect(back.contains(.powerOn))
        #expect(Self.sent(back).isEmpty)
        #expect(Self.sent(side.observed(at: Self.at(12))) == [.fragmentRequest(targetVersion: "V2.0", index: 1)])
        let done = side.received(Self.fragment(1), at: Self.at(12.5))
        #expect(done.contains(.event(.downloaded(sha256: PCPDeviceEvent.sha256(of: Self.package), package: Self.package))))
        #expect(Self.sent(done) == [.downloadResult(.success)])
    }

    @Test func executeInstallsForTheInstallTimeThenRebootsAndReportsOnceObserved() {
        var side = Side(personality: PCPPersonality(softwareVersion: "V1.0", installTime: .seconds(30)))
        _ = side.received(.newVersion(Self.notice), at: Self.t0)
        _ = side.received(Self.fragment(0), at: Self.t0)
        #expect(Self.sent(side.received(Self.fragment(1), at: Self.t0)) == [.downloadResult(.success)])
        #expect(Self.sent(side.received(.execute, at: Self.at(1))) == [.executeAnswer(.success)])
        #expect(side.tick(at: Self.at(30.999)).isEmpty)
        let installed = side.tick(at: Self.at(31))
        #expect(installed == [.event(.upgraded(version: "V2.0")), .reboot])
        #expect(Self.sent(side.observed(at: Self.at(32))) == [.upgradeResult(result: .success, version: "V2.0")])
        #expect(Self.sent(side.received(.upgradeResultAck(.success), at: Self.at(32.1))).isEmpty)
        #expect(Self.sent(side.tick(at: Self.at(100))).isEmpty)
        #expect(Self.sent(side.received(.queryVersion, at: Self.at(101))) == [.versionReport(result: .success, version: "V2.0")])
    }

    @Test func theQuirkyModuleSendsAnExecuteAnswerOnItsOwnTimer() {
        var side = Side(personality: PCPPersonality(softwareVersion: "V1.0", spontaneousExecuteAnswerAfter: .seconds(3)))
        _ = side.received(.newVersion(Self.notice), at: Self.t0)
        _ = side.received(Self.fragment(0), at: Self.t0)
        _ = side.received(Self.fragment(1), at: Self.t0)
        _ = side.received(.downloadResultAck(.success), at: Self.t0)
        #expect(Self.sent(side.tick(at: Self.at(2.999))).isEmpty)
        #expect(Self.sent(side.tick(at: Self.at(3))) == [.executeAnswer(.success)])
        #expect(Self.sent(side.tick(at: Self.at(10))).isEmpty)
    }
}
