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
        let actions = s.connected(now: t0)
        #expect(actions.first == .publish(.childManagement, .subDeviceSyncRequest(SubDeviceSyncRequest(version: 7)), nodeId: nil, eventId: nil))
        #expect(adds(actions).map { $0.devices.map(\.nodeId) } == [["a", "b"]])
        #expect(adds(actions).first?.devices.first?.parentDeviceId == "gw")
        #expect(statuses(actions) == [[DeviceStatus(deviceId: "p_c", status: .online)]])
    }

    @Test func addRequestsCarryAtMost50Children() {
        var s = sync((0..<120).map { child(String(format: "n%03d", $0)) })
        #expect(adds(s.connected(now: t0)).map(\.devices.count) == [50, 50, 20])
        #expect(s.pendingAdds.count == 3)
    }

    @Test func successfulAddStoresTheIdAndReportsStatus() {
        var s = sync([child("a", status: .online)])
        _ = s.connected(now: t0)
        let response = AddSubDeviceResponse(successfulDevices: [SubDeviceInfo(nodeId: "a", deviceId: "p_a")], failedDevices: [])
        let actions = s.received(EventService(.addSubDeviceResponse(response), eventId: "e1"), now: at(2))
        #expect(actions.contains(.saveDeviceId(nodeId: "a", deviceId: "p_a")))
        #expect(statuses(actions) == [[DeviceStatus(deviceId: "p_a", status: .online)]])
        #expect(s.pendingAdds.isEmpty)
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

    @Test func reconnectResendsEveryStatus() {
        var s = sync([child("a", deviceId: "da"), child("b", deviceId: "db")])
        _ = s.connected(now: t0)
        _ = s.statusChanged(nodeId: "a", status: .online, now: at(1))
        s.disconnected()
        // While the link is down a change is saved, not queued; the reconnect re-sends it.
        let whileDown = s.statusChanged(nodeId: "b", status: .online, now: at(5))
        #expect(whileDown == [.saveStatus(nodeId: "b", status: .online)])
        let again = s.connected(now: at(10))
        #expect(statuses(again) == [[DeviceStatus(deviceId: "da", status: .online), DeviceStatus(deviceId: "db", status: .online)]])
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

    @Test func reportsUseThePlatformsIdBeforeTheAddIsAnswered() {
        let s = sync([child("meter-1")])
        #expect(s.deviceId(of: "meter-1") == "p_meter-1")
        #expect(s.nodeId(ofDeviceId: "p_meter-1") == "meter-1")
        #expect(s.deviceId(of: "nope") == nil)
    }
}
