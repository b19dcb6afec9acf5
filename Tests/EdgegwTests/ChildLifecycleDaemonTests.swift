import Foundation
import Testing
import TestSupport
@testable import GatewayCore
@testable import IoTDA
@testable import Store

/// Issue 11 end to end: the daemon, ten Modbus slaves (pymodbus) and the scripted platform on a
/// real mosquitto. The gateway restarts with its children known to the cloud (ids in the store).
@Suite(.serialized) struct ChildLifecycleDaemonTests {
    static let units = Array(1...10)

    static let product = """
        [product]
        id = "power-meter"
        manufacturer = "Acme"
        model = "PM-1"
        device_type = "PowerMeter"
        protocol = "Modbus"

        [[services]]
        id = "Energy"

          [[services.properties]]
          name = "voltage"
          type = "decimal"
          min = 0
          max = 1000

          [[services.properties]]
          name = "total"
          type = "decimal"

          [[services.properties]]
          name = "setpoint"
          type = "int"
          min = 0
          max = 65535
          access = "RW"
        """

    static func device(unit: Int, port: UInt16) -> String {
        """
        node_id = "meter-\(unit)"
        product_id = "power-meter"
        unit_id = \(unit)

        [transport]
        kind = "tcp"
        host = "127.0.0.1"
        port = \(port)

        [[poll_groups]]
        name = "fast"
        interval_ms = 250

        [[points]]
        name = "voltage"
        service_id = "Energy"
        table = "input"
        address = 0
        type = "uint16"

        [[points]]
        name = "total"
        service_id = "Energy"
        table = "holding"
        address = 10
        type = "uint64"

        [[points]]
        name = "setpoint"
        service_id = "Energy"
        table = "holding"
        address = 20
        type = "uint16"
        writable = true
        """
    }

    struct Uplink {
        var index: Int
        var topic: String
        var json: [String: Any]
        var payload: String
    }

    func uplinks(_ site: CloudSite) -> [Uplink] {
        site.platform.records.enumerated().compactMap { i, r in
            guard let json = try? JSONSerialization.jsonObject(with: Data(r.payload.utf8)) as? [String: Any] else { return nil }
            return Uplink(index: i, topic: r.topic, json: json, payload: r.payload)
        }
    }

    /// device_id → status, per status message, in arrival order.
    func statusMessages(_ ups: [Uplink]) -> [(index: Int, statuses: [String: String])] {
        ups.compactMap { u in
            guard u.topic.hasSuffix("/sys/events/up"), let s = (u.json["services"] as? [[String: Any]])?.first,
                  s["event_type"] as? String == "sub_device_update_status" else { return nil }
            let entries = (s["paras"] as? [String: Any])?["device_statuses"] as? [[String: Any]] ?? []
            return (u.index, Dictionary(entries.map { ($0["device_id"] as? String ?? "", $0["status"] as? String ?? "") },
                                        uniquingKeysWith: { _, b in b }))
        }
    }

    /// (record index, device_id, services) per child entry of every batch report.
    func reports(_ ups: [Uplink]) -> [(index: Int, deviceId: String, services: [[String: Any]])] {
        ups.flatMap { u -> [(index: Int, deviceId: String, services: [[String: Any]])] in
            guard u.topic.hasSuffix("/sys/gateway/sub_devices/properties/report") else { return [] }
            return (u.json["devices"] as? [[String: Any]] ?? []).map {
                (u.index, $0["device_id"] as? String ?? "", $0["services"] as? [[String: Any]] ?? [])
            }
        }
    }

    @Test func startDeleteNumbersTimesAndRepeatedSets() async throws {
        let site = try await CloudSite()
        let port = FreePort.next()
        let peer = try ModbusPeer(tcpPort: port, units: Self.units)
        #expect(await peer.ready())
        #expect(await peer.set(unit: 1, table: "holding", address: 10, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]))

        site.fixture.directory.write("products/power-meter.toml", Self.product)
        for unit in Self.units { site.fixture.directory.write("devices/meter-\(unit).toml", Self.device(unit: unit, port: port)) }
        // As after an earlier run: every child known to the cloud, its last status OFFLINE.
        do {
            let store = try StateStore(directory: site.fixture.directory.file("state"))
            for unit in Self.units {
                try store.upsertChild(ChildDevice(nodeId: "meter-\(unit)", deviceId: "power-meter_meter-\(unit)",
                                                  productId: "power-meter", source: .modbus, status: .offline))
            }
        }
        let ids = Self.units.map { "power-meter_meter-\($0)" }

        let daemon = try site.startDaemon()
        defer { daemon.stop() }
        #expect(await Eventually.wait(timeout: .seconds(30)) { Set(reports(uplinks(site)).map(\.deviceId)).isSuperset(of: ids) },
                "\(daemon.text.suffix(3000))")

        // Item 2: no OFFLINE for a slave that answers; ONLINE before the first data.
        var ups = uplinks(site)
        let statuses = statusMessages(ups)
        let offline = statuses.flatMap { $0.statuses.filter { $0.value == "OFFLINE" }.map(\.key) }
        print("figure: OFFLINE statuses at start for responding children: \(offline.count) (\(Set(offline).count) of \(ids.count) children)")
        var early: [String] = []
        for id in ids {
            let online = statuses.first { $0.statuses[id] == "ONLINE" }?.index
            let data = reports(ups).first { $0.deviceId == id }?.index
            if let data, online.map({ data < $0 }) ?? true { early.append(id) }
        }
        print("figure: children whose first property report preceded their ONLINE: \(early.count) of \(ids.count)")
        #expect(offline.isEmpty)
        #expect(early.isEmpty)

        // Item 7: the uint64 on the wire.
        let totalText = ups.first { $0.payload.contains("\"power-meter_meter-1\"") && $0.payload.contains("\"total\":") }
            .flatMap { u -> String? in
                guard let r = u.payload.range(of: "\"total\":") else { return nil }
                return String(u.payload[r.upperBound...].prefix { $0 != "," && $0 != "}" })
            }
        print("figure: uint64 18446744073709551615 on the wire as: \(totalText ?? "(absent)")")
        #expect(totalText == "18446744073709551615")

        // Item 8: consecutive readings of one child.
        let mark = ups.count
        for v in 1...12 {
            #expect(await peer.set(unit: 1, table: "input", address: 0, [v * 10]))
            try await Task.sleep(for: .milliseconds(300))
        }
        try await Task.sleep(for: .seconds(1))
        ups = uplinks(site)
        let times = reports(ups).filter { $0.index >= mark && $0.deviceId == "power-meter_meter-1" }
            .flatMap { $0.services.filter { ($0["properties"] as? [String: Any])?["voltage"] != nil }.compactMap { $0["event_time"] as? String } }
        print("figure: \(times.count) consecutive reports of meter-1 carried \(Set(times).count) distinct event_time values, e.g. \(times.prefix(3))")
        #expect(times.count >= 6)
        #expect(Set(times).count == times.count)

        // Item 9: one property set naming the same service 500 times.
        await peer.resetRequests()
        let one = #"{"service_id":"Energy","properties":{"setpoint":7}}"#
        let set = #"{"object_device_id":"power-meter_meter-2","services":[\#(Array(repeating: one, count: 500).joined(separator: ","))]}"#
        site.platform.send(#"{"publish":{"topic":"$oc/devices/\#(site.deviceId)/sys/properties/set/request_id=ps500","payload":\#(set)}}"#)
        #expect(await Eventually.wait(timeout: .seconds(25)) {
            site.platform.records.contains { $0.topic.hasSuffix("properties/set/response/request_id=ps500") }
        }, "\(daemon.text.suffix(2000))")
        let writes = (await peer.requests() ?? []).filter { $0.unit == 2 && [5, 6, 15, 16].contains($0.function) }
        print("figure: Modbus writes for a set naming one service 500 times: \(writes.count)")
        let answer = site.platform.records.first { $0.topic.hasSuffix("request_id=ps500") }?.payload ?? ""
        #expect(writes.count == 1, "\(answer)")
        #expect(answer.contains(#""result_code":0"#), "\(answer)")
        #expect(await peer.get(unit: 2, table: "holding", address: 20, count: 1) == [7])

        // Item 1: meter-3 deleted on the console. It changes afterwards; nothing about it goes up.
        site.platform.send(#"{"delete_notify":{"device_id":"\#(site.deviceId)","device_ids":["power-meter_meter-3"]}}"#)
        #expect(await daemon.waitForOutput("the platform deleted child meter-3", timeout: .seconds(10)))
        let deletedAt = site.platform.records.count
        for v in 1...6 {
            #expect(await peer.set(unit: 3, table: "input", address: 0, [500 + v]))
            #expect(await peer.set(unit: 4, table: "input", address: 0, [600 + v]))
            try await Task.sleep(for: .milliseconds(300))
        }
        await peer.mode(unit: 3, "silent")   // and it goes quiet: no OFFLINE for a deleted child either
        try await Task.sleep(for: .seconds(5))
        ups = uplinks(site)
        let afterDelete = ups.filter { $0.index >= deletedAt && $0.payload.contains("power-meter_meter-3") }
        print("figure: messages about meter-3 after delete_sub_device_notify: \(afterDelete.count)")
        #expect(afterDelete.isEmpty, "\(afterDelete.map(\.payload).prefix(3))")
        #expect(reports(ups).contains { $0.index >= deletedAt && $0.deviceId == "power-meter_meter-4" })
        let flagged = site.platform.records.filter { !$0.problems.isEmpty }
        #expect(flagged.isEmpty, "\(flagged.map(\.problems).prefix(5))")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}
