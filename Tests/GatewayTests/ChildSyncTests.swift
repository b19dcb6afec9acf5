import Foundation
import Testing
@testable import Gateway
@testable import GatewayCore
@testable import IoTDA
@testable import Store

@Suite struct ChildSyncTests {
    typealias Sync = ChildSync<ManualClock.Instant>
    let t0 = ManualClock.Instant(offset: .zero)
    func at(_ seconds: Int) -> ManualClock.Instant { t0.advanced(by: .seconds(seconds)) }

    func sync(_ children: [ChildDevice], version: Int64? = nil) -> Sync {
        var n = 0
        return Sync(gatewayDeviceId: "gw", version: version, children: children, makeEventId: { n += 1; return "e\(n)" })
    }

    func child(_ id: String, deviceId: String? = nil, status: ChildStatus = .offline) -> ChildDevice {
        ChildDevice(nodeId: id, deviceId: deviceId, productId: "p", source: .modbus, status: status)
    }

    func adds(_ actions: [Sync.Action]) -> [AddSubDeviceRequest] {
        actions.compactMap { if case .publish(_, .addSubDeviceRequest(let r), _, _) = $0 { r } else { nil } }
    }

    func statuses(_ actions: [Sync.Action]) -> [[DeviceStatus]] {
        actions.compactMap { if case .publish(.statusUpdate, .subDeviceUpdateStatus(let u), _, _) = $0 { u.deviceStatuses } else { nil } }
    }

    @Test func connectSyncsWithTheStoredVersionAddsMissingAndResendsStatuses() {
        var s = sync([child("a"), child("b"), child("c", deviceId: "p_c", status: .online)], version: 7)
        _ = s.statusChanged(nodeId: "c", status: .online, now: t0)
        let actions = s.connected(now: t0)
        #expect(actions.first == .publish(.childManagement, .subDeviceSyncRequest(SubDeviceSyncRequest(version: 7)), nodeId: nil, eventId: nil))
        #expect(adds(actions).map { $0.devices.map(\.nodeId) } == [["a", "b"]])
        #expect(adds(actions).first?.devices.first?.parentDeviceId == "gw")
        // The resync shares the coalescing window with changes that follow the connect.
        #expect(statuses(actions).isEmpty)
        #expect(statuses(s.tick(now: at(1))) == [[DeviceStatus(deviceId: "p_c", status: .online)]])
    }

    @Test func theStoredStatusOfAnEarlierRunIsNotReported() {
        // Stored ONLINE and OFFLINE: neither is what the field says now.
        var s = sync([child("a", deviceId: "da", status: .offline), child("b", deviceId: "db", status: .online)])
        #expect(statuses(s.connected(now: t0) + s.tick(now: at(5))).isEmpty)
        #expect(s.reportRoute(of: "a") == .hold)
        _ = s.statusChanged(nodeId: "a", status: .online, now: at(6))
        #expect(statuses(s.tick(now: at(7))) == [[DeviceStatus(deviceId: "da", status: .online)]])
        #expect(s.reportRoute(of: "a") == .send(deviceId: "da"))
    }

    @Test func addRequestsCarryAtMost50Children() {
        var s = sync((0..<120).map { child(String(format: "n%03d", $0)) })
        #expect(adds(s.connected(now: t0)).map(\.devices.count) == [50, 50, 20])
        #expect(s.pendingAdds.count == 3)
    }

    @Test func successfulAddStoresTheIdAndReportsStatus() {
        var s = sync([child("a")])
        _ = s.statusChanged(nodeId: "a", status: .online, now: t0)
        _ = s.connected(now: t0)
        let response = AddSubDeviceResponse(successfulDevices: [SubDeviceInfo(nodeId: "a", deviceId: "p_a")], failedDevices: [])
        let actions = s.received(EventService(.addSubDeviceResponse(response), eventId: "e1"), now: at(2))
        #expect(actions.contains(.saveDeviceId(nodeId: "a", deviceId: "p_a")))
        #expect(s.pendingAdds.isEmpty)
        #expect(s.reportRoute(of: "a") == .hold)
        #expect(statuses(s.tick(now: at(3))) == [[DeviceStatus(deviceId: "p_a", status: .online)]])
        #expect(s.reportRoute(of: "a") == .send(deviceId: "p_a"))
    }

    @Test func refusedAddIsLoggedWithTheErrorCodeAndRetriedAfter10Minutes() {
        var s = sync([child("a")])
        _ = s.connected(now: t0)
        let failure = AddSubDeviceFailure(nodeId: "a", productId: "p", errorCode: "IOTDA.014009", errorMsg: "product not found")
        let actions = s.received(EventService(.addSubDeviceResponse(AddSubDeviceResponse(successfulDevices: [], failedDevices: [failure])),
                                              eventId: "e1"), now: at(1))
        #expect(actions.contains { if case .log(.error, let m) = $0 { m.contains("IOTDA.014009") && m.contains("product not found") } else { false } })
        #expect(adds(s.tick(now: at(600))).isEmpty)
        #expect(adds(s.tick(now: at(601))).map { $0.devices.map(\.nodeId) } == [["a"]])
    }

    @Test func addWithoutAnswerIsRetriedAfter30Seconds() {
        var s = sync([child("a")])
        #expect(adds(s.connected(now: t0)).count == 1)
        #expect(s.nextDeadline == at(30))
        #expect(adds(s.tick(now: at(29))).isEmpty)
        let retry = s.tick(now: at(30))
        #expect(adds(retry).count == 1)
        #expect(s.pendingAdds.keys.sorted() == ["e2"])
        // A late answer to the first request is harmless.
        let late = s.received(EventService(.addSubDeviceResponse(AddSubDeviceResponse(successfulDevices: [], failedDevices: [])), eventId: "e1"), now: at(31))
        #expect(late.allSatisfy { if case .log(.warning, _) = $0 { true } else { false } })
    }

    @Test func statusChangesAreCoalescedForOneSecondAndSplitAt100() {
        let all = (0..<150).map { child(String(format: "n%03d", $0), deviceId: String(format: "d%03d", $0)) }
        var s = sync(all)
        _ = s.connected(now: t0)
        var published: [[DeviceStatus]] = []
        for (i, c) in all.enumerated() {
            published += statuses(s.statusChanged(nodeId: c.nodeId, status: .online, now: t0.advanced(by: .milliseconds(i))))
        }
        #expect(published.isEmpty)
        #expect(statuses(s.tick(now: at(1))).map(\.count) == [100, 50])
        // Nothing changed: nothing to send.
        #expect(s.statusChanged(nodeId: "n000", status: .online, now: at(2)).isEmpty)
    }

    @Test func statusesAreQueuedWhileDownAndAReconnectResendsEveryOne() {
        var s = sync([child("a", deviceId: "da"), child("b", deviceId: "db")])
        _ = s.connected(now: t0)
        _ = s.statusChanged(nodeId: "a", status: .online, now: at(1))
        #expect(statuses(s.tick(now: at(2))) == [[DeviceStatus(deviceId: "da", status: .online)]])
        s.disconnected()
        // While the link is down a change still goes to the outbox, which delivers it in order
        // after the reconnect, ahead of the data queued after it.
        _ = s.statusChanged(nodeId: "b", status: .online, now: at(5))
        #expect(statuses(s.tick(now: at(6))) == [[DeviceStatus(deviceId: "db", status: .online)]])
        // The reconnect re-sends every known status, once the window has passed.
        #expect(statuses(s.connected(now: at(10))).isEmpty)
        #expect(statuses(s.tick(now: at(11))) == [[DeviceStatus(deviceId: "da", status: .online), DeviceStatus(deviceId: "db", status: .online)]])
    }

    @Test func aChangeThePlatformAlreadyHasIsNotSentAgain() {
        var s = sync([child("a", deviceId: "da")])
        _ = s.statusChanged(nodeId: "a", status: .offline, now: t0)
        #expect(statuses(s.tick(now: at(1))) == [[DeviceStatus(deviceId: "da", status: .offline)]])
        // ABNORMAL is OFFLINE to the platform.
        _ = s.statusChanged(nodeId: "a", status: .abnormal, now: at(2))
        #expect(statuses(s.tick(now: at(3))).isEmpty)
        // Back and forth within one window: the platform gets the end state.
        _ = s.statusChanged(nodeId: "a", status: .online, now: at(4))
        _ = s.statusChanged(nodeId: "a", status: .offline, now: at(4))
        _ = s.statusChanged(nodeId: "a", status: .online, now: at(4))
        #expect(statuses(s.tick(now: at(5))) == [[DeviceStatus(deviceId: "da", status: .online)]])
    }

    @Test func aDeleteNotifyForAnEarlierIdLeavesTheChildAlone() {
        var s = sync([child("a", deviceId: "da")])
        _ = s.statusChanged(nodeId: "a", status: .online, now: t0)
        // A sync replays the re-add (new id) and then the delete of the old one.
        _ = s.received(EventService(.addSubDeviceNotify(SubDeviceNotify(devices: [SubDeviceInfo(nodeId: "a", deviceId: "da2")], version: 5))), now: at(1))
        let del = s.received(EventService(.deleteSubDeviceNotify(SubDeviceNotify(devices: [SubDeviceInfo(nodeId: "a", deviceId: "da")], version: 4))), now: at(1))
        #expect(!del.contains(.forget(nodeId: "a")))
        #expect(statuses(s.tick(now: at(2))) == [[DeviceStatus(deviceId: "da2", status: .online)]])
        #expect(s.reportRoute(of: "a") == .send(deviceId: "da2"))
    }

    @Test func notifiesUpdateIdsAndTheVersion() {
        var s = sync([child("a"), child("b", deviceId: "db")], version: 1)
        _ = s.connected(now: t0)
        let add = s.received(EventService(.addSubDeviceNotify(SubDeviceNotify(devices: [SubDeviceInfo(nodeId: "a", deviceId: "da")], version: 2))), now: at(1))
        #expect(add.contains(.saveDeviceId(nodeId: "a", deviceId: "da")))
        #expect(add.contains(.saveVersion(2)))
        let del = s.received(EventService(.deleteSubDeviceNotify(SubDeviceNotify(devices: [SubDeviceInfo(deviceId: "db")], version: 3))), now: at(2))
        #expect(del.contains(.saveDeviceId(nodeId: "b", deviceId: nil)))
        #expect(s.version == 3)
        // A child deleted on the console is not added back behind the technician's back.
        s.disconnected()
        let reconnect = s.connected(now: at(100))
        #expect(adds(reconnect).isEmpty)
        #expect(reconnect.first == .publish(.childManagement, .subDeviceSyncRequest(SubDeviceSyncRequest(version: 3)), nodeId: nil, eventId: nil))
    }

    @Test func reportsWaitForTheAddAndTheOnlineButCommandsFindTheChildByThePlatformsId() {
        let s = sync([child("meter-1")])
        #expect(s.deviceId(of: "meter-1") == nil)
        #expect(s.reportRoute(of: "meter-1") == .hold)
        #expect(s.nodeId(ofDeviceId: "p_meter-1") == "meter-1")
        #expect(s.deviceId(of: "nope") == nil)
        #expect(s.reportRoute(of: "nope") == .unknown)
    }

    @Test func aDeletedChildIsNeitherReportedNorAddressable() {
        var s = sync([child("a", deviceId: "da")])
        _ = s.statusChanged(nodeId: "a", status: .online, now: t0)
        _ = s.tick(now: at(1))
        let del = s.received(EventService(.deleteSubDeviceNotify(SubDeviceNotify(devices: [SubDeviceInfo(deviceId: "da")], version: 2))), now: at(2))
        #expect(del.contains(.forget(nodeId: "a")))
        #expect(s.reportRoute(of: "a") == .deleted)
        #expect(s.deviceId(of: "a") == nil)
        #expect(s.nodeId(ofDeviceId: "da") == nil)
        #expect(s.nodeId(ofDeviceId: "p_a") == nil)
        _ = s.statusChanged(nodeId: "a", status: .offline, now: at(3))
        #expect(statuses(s.tick(now: at(10))).isEmpty)
    }
}
