import Foundation
import GatewayCore
import LwM2M
import Testing

@Suite struct PresenceTrackerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func reportingDeviceWithoutRegistrationAgesAbnormalAt25hAndOfflineAt49h() {
        var presence = PresenceTracker()
        #expect(presence.data("n", at: t0) == [.init(nodeId: "n", status: .online)])
        #expect(presence.data("n", at: t0).isEmpty)
        #expect(presence.tick(at: t0 + 25 * 3600 - 1).isEmpty)
        #expect(presence.tick(at: t0 + 25 * 3600) == [.init(nodeId: "n", status: .abnormal)])
        #expect(presence.tick(at: t0 + 49 * 3600 - 1).isEmpty)
        #expect(presence.tick(at: t0 + 49 * 3600) == [.init(nodeId: "n", status: .offline)])
        #expect(presence.tick(at: t0 + 99 * 3600).isEmpty)
        #expect(presence.data("n", at: t0 + 100 * 3600) == [.init(nodeId: "n", status: .online)])
    }

    @Test func registeredDevicesFollowTheirRegistration() {
        var presence = PresenceTracker()
        #expect(presence.registered("n", at: t0) == [.init(nodeId: "n", status: .online)])
        #expect(presence.registered("n", at: t0 + 1).isEmpty)
        #expect(presence.tick(at: t0 + 30 * 3600).isEmpty)
        #expect(presence.registrationEnded("n", at: t0 + 31 * 3600) == [.init(nodeId: "n", status: .offline)])
        #expect(presence.registrationEnded("n", at: t0 + 32 * 3600).isEmpty)
    }
}
