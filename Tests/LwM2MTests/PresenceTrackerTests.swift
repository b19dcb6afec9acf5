import Foundation
import GatewayCore
import LwM2M
import Testing

@Suite struct PresenceTrackerTests {
    let t0 = OffsetInstant(offset: .seconds(1_800_000_000))

    @Test func reportingDeviceWithoutRegistrationAgesAbnormalAt25hAndOfflineAt49h() {
        var presence = PresenceTracker<OffsetInstant>()
        #expect(presence.data("n", at: t0) == [.init(nodeId: "n", status: .online)])
        #expect(presence.data("n", at: t0).isEmpty)
        #expect(presence.tick(at: t0.advanced(by: .seconds(25 * 3600 - 1))).isEmpty)
        #expect(presence.tick(at: t0.advanced(by: .seconds(25 * 3600))) == [.init(nodeId: "n", status: .abnormal)])
        #expect(presence.tick(at: t0.advanced(by: .seconds(49 * 3600 - 1))).isEmpty)
        #expect(presence.tick(at: t0.advanced(by: .seconds(49 * 3600))) == [.init(nodeId: "n", status: .offline)])
        #expect(presence.tick(at: t0.advanced(by: .seconds(99 * 3600))).isEmpty)
        #expect(presence.data("n", at: t0.advanced(by: .seconds(100 * 3600))) == [.init(nodeId: "n", status: .online)])
    }

    @Test func registeredDevicesFollowTheirRegistration() {
        var presence = PresenceTracker<OffsetInstant>()
        #expect(presence.registered("n", at: t0) == [.init(nodeId: "n", status: .online)])
        #expect(presence.registered("n", at: t0.advanced(by: .seconds(1))).isEmpty)
        #expect(presence.tick(at: t0.advanced(by: .seconds(30 * 3600))).isEmpty)
        #expect(presence.registrationEnded("n", at: t0.advanced(by: .seconds(31 * 3600))) == [.init(nodeId: "n", status: .offline)])
        #expect(presence.registrationEnded("n", at: t0.advanced(by: .seconds(32 * 3600))).isEmpty)
    }
}
