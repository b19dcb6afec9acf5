import Foundation
import GatewayCore
import PCP
import Testing
@testable import Upgrade

/// Notices for many children arrive together (the cloud sends one per child, back to back): each
/// notice awaits its storage, so others run in between. Every child must still get its package.
@Suite struct UpgradeConcurrentNoticeTests {
    static let children = (0..<20).map { "meter-\($0)" }

    @Test func everyChildOfNoticesThatArriveTogetherGetsItsPackage() async throws {
        let rig = Rig()
        await rig.packages.hold()
        await notifyAtOnce(rig)
        await rig.packages.release()
        await rig.service.settle()
        for child in Self.children {
            #expect(await rig.service.phase(of: child) == .waitForDevice, "\(child) left in PREPARING")
        }
    }

    @Test func everyChildOfNoticesThatArriveTogetherGetsItsPackageFailure() async throws {
        let rig = Rig(answer: .failed(.verificationFailed, description: "package SHA-256 differs from sign"))
        await rig.packages.hold()
        await notifyAtOnce(rig)
        await rig.packages.release()
        await rig.service.settle()
        let finals = await rig.reporter.finals()
        #expect(Set(finals.keys) == Set(Self.children))
        #expect(finals.values.allSatisfy { $0.resultCode == 7 })
        for child in Self.children { #expect(await rig.service.hasActiveTask(child) == false) }
    }

    private func notifyAtOnce(_ rig: Rig) async {
        await withTaskGroup(of: Void.self) { group in
            for child in Self.children {
                group.addTask { await rig.service.upgrade(nodeId: child, notice: Rig.notice(), product: rig.product) }
            }
        }
    }
}
