import Admin
import Foundation
import GatewayCore
import Modbus

/// What `edgegw devices` shows, kept up to date as the field reports (through
/// `ObservingSink`) and by the admin service's refresh; read without waiting by the admin socket.
final class DeviceBoard: Sendable {
    private let rows: Locked<[String: AdminDevice]>
    private let order: [String]
    /// Modbus error counters at the last refresh, per node, to tell which kind of failure came last.
    private let lastCounters = Locked<[String: ModbusCounters]>([:])

    init(loaded: LoadedConfig, children: [ChildDevice]) {
        let deviceIds = Dictionary(children.map { ($0.nodeId, $0.deviceId) }, uniquingKeysWith: { a, _ in a })
        let buses = Dictionary(loaded.modbusDevices.map { ($0.nodeId, "\($0.busId) unit \($0.unitId)") }, uniquingKeysWith: { a, _ in a })
        let ports = Dictionary(loaded.serialDevices.map { ($0.nodeId, "serial:\($0.port.device)" + ($0.address.map { " address \($0)" } ?? "")) },
                               uniquingKeysWith: { a, _ in a })
        var rows: [String: AdminDevice] = [:]
        for device in loaded.devices {
            let (kind, address): (String, String) = switch device.source {
            case .modbus: ("modbus", buses[device.nodeId] ?? "")
            case .serial: ("serial", ports[device.nodeId] ?? "")
            case .lwm2m: ("nbiot", "not registered")
            }
            rows[device.nodeId] = AdminDevice(nodeId: device.nodeId, deviceId: deviceIds[device.nodeId] ?? nil, productId: device.productId,
                                              kind: kind, status: "UNKNOWN", lastSeen: nil, lastValue: nil, address: address)
        }
        self.rows = Locked(rows)
        order = loaded.devices.map(\.nodeId)
    }

    func snapshot() -> [AdminDevice] {
        let rows = rows.withLock { $0 }
        let known = Set(order)
        return order.compactMap { rows[$0] } + rows.keys.filter { !known.contains($0) }.sorted().compactMap { rows[$0] }
    }

    private func update(_ nodeId: String, _ body: (inout AdminDevice) -> Void) {
        rows.withLock {
            guard var row = $0[nodeId] else { return }
            body(&row)
            $0[nodeId] = row
        }
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) {
        update(nodeId) {
            $0.status = status.rawValue
            if status == .online { $0.lastSeen = max($0.lastSeen ?? time, time) }
        }
    }

    func reported(nodeId: String, at time: Date) {
        update(nodeId) {
            $0.lastSeen = max($0.lastSeen ?? time, time)
            $0.lastValue = time
        }
    }

    func seen(nodeId: String, at time: Date) {
        update(nodeId) { $0.lastSeen = max($0.lastSeen ?? time, time) }
    }

    /// The platform's device ids, as the bridge learned them.
    func setDeviceIds(_ ids: [String: String]) {
        rows.withLock {
            for (nodeId, deviceId) in ids { $0[nodeId]?.deviceId = deviceId }
        }
    }

    func setRegistered(nodeId: String, _ registered: Bool) {
        update(nodeId) { $0.address = registered ? "registered" : "not registered" }
    }

    /// The Modbus counters of each device: a failure counted since the last refresh becomes
    /// its last error, at `now` (within a refresh interval of when it happened).
    func modbusCounters(_ devices: [ModbusDiagnostics.Device], now: Date) {
        let previous = lastCounters.withLock { state in
            defer { for d in devices { state[d.nodeId] = d.counters } }
            return state
        }
        for device in devices {
            let before = previous[device.nodeId] ?? ModbusCounters()
            let c = device.counters
            let kinds: [(Int, String)] = [
                (c.timeouts - before.timeouts, "timeout"), (c.crcErrors - before.crcErrors, "CRC error"),
                (c.exceptions - before.exceptions, "exception response"), (c.badResponses - before.badResponses, "bad response"),
                (c.connectionErrors - before.connectionErrors, "connection error"),
            ]
            let failed = kinds.filter { $0.0 > 0 }.map { "\($0.1) (\($0.0)x)" }
            update(device.nodeId) {
                if let good = c.lastGoodRead { $0.lastSeen = max($0.lastSeen ?? good, good) }
                if !failed.isEmpty {
                    $0.lastError = failed.joined(separator: ", ")
                    $0.lastErrorAt = now
                }
            }
        }
    }
}

/// The field services' sink as the daemon hands it to them: every call is noted on the
/// board (last seen, last values, status), then passed to the cloud bridge.
struct ObservingSink: UplinkSink {
    let board: DeviceBoard
    let next: any UplinkSink
    let clock: GatewayClock

    func report(nodeId: String, services: [ServiceReport]) async {
        board.reported(nodeId: nodeId, at: services.compactMap(\.eventTime).max() ?? clock.wallTime())
        await next.report(nodeId: nodeId, services: services)
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {
        board.statusChanged(nodeId: nodeId, status: status, at: time)
        await next.statusChanged(nodeId: nodeId, status: status, at: time)
    }

    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {
        board.seen(nodeId: nodeId, at: time)
        await next.message(nodeId: nodeId, name: name, id: id, content: content, at: time)
    }
}
