import Admin
import CloudLink
import Foundation
import GatewayCore
import LwM2M
import Modbus
import Serial
import Store

/// The daemon's answers on the admin socket. Everything here is read under a short lock or
/// from a snapshot the admin service refreshes: the socket's thread never waits on the cloud,
/// the store or a bus.
final class DaemonAdmin: AdminResponder {
    let board: DeviceBoard
    /// Frames of the Modbus buses and of the NB-IoT devices, for `edgegw trace`.
    let modbusTap = TraceTap()
    let nbiotTap = TraceTap()

    private let pid = getpid()
    private let started: Date
    private let startedAt: GatewayClock.Instant
    private let clock: GatewayClock
    private let configFile: String
    private let configLoaded: Date
    private let gatewayDeviceId: String
    private let endpoint: String
    private let listeners: [AdminStatus.Listener]
    private let session: CloudSession
    private let outbox: Outbox
    private let field = Locked<Field>(Field())
    private let snapshots = Locked<Snapshots>(Snapshots())

    /// The field services, known once the daemon has made them.
    struct Field {
        var modbus: ModbusService?
        var serial: SerialService?
        var nbiotDevices: Set<String> = []
    }

    private struct Snapshots {
        var cloudState = "disconnected"
        var cloudSince: Date
        var outboxOldest: Date?

        init(now: Date = Date()) { cloudSince = now }
    }

    init(loaded: LoadedConfig, children: [ChildDevice], session: CloudSession, outbox: Outbox, clock: GatewayClock) {
        board = DeviceBoard(loaded: loaded, children: children)
        self.clock = clock
        started = clock.wallTime()
        startedAt = clock.now
        configFile = loaded.file
        configLoaded = started
        gatewayDeviceId = loaded.gateway.gateway.deviceId
        let cloud = loaded.gateway.cloud
        endpoint = "\(cloud.tls ? "mqtts" : "mqtt")://\(cloud.host):\(cloud.port)"
        self.session = session
        self.outbox = outbox
        var listeners: [AdminStatus.Listener] = []
        let servesLwM2M = !loaded.nbiotDevices.isEmpty || loaded.lwm2m.server.autoProvisionProductId != nil
        let l = loaded.gateway.listeners
        let bootstrapServed = loaded.nbiotDevices.contains { !$0.bootstrapPSK.isEmpty }
        for (name, listener, serves) in [("coap", l.coap, servesLwM2M), ("coaps", l.coaps, servesLwM2M),
                                         ("bootstrap", l.bootstrap, servesLwM2M && bootstrapServed)] where listener.enabled && serves {
            for address in listener.bind {
                listeners.append(AdminStatus.Listener(name: name, transport: "udp", address: address, port: listener.port))
            }
        }
        if loaded.gateway.admin.enabled {
            listeners.append(AdminStatus.Listener(name: "admin", transport: "unix", address: loaded.gateway.admin.socket))
        }
        self.listeners = listeners
        snapshots.withLock { $0 = Snapshots(now: started) }
        field.withLock { $0.nbiotDevices = Set(loaded.nbiotDevices.map(\.nodeId)) }
    }

    func attach(modbus: ModbusService) {
        field.withLock { $0.modbus = modbus }
    }

    func attach(serial: SerialService) {
        field.withLock { $0.serial = serial }
    }

    // MARK: - Snapshots the admin service keeps fresh

    func cloudStateChanged(_ state: CloudConnectionState) {
        let now = clock.wallTime()
        let name = state == .disconnected ? "disconnected" : "connected"
        snapshots.withLock {
            guard $0.cloudState != name else { return }
            $0.cloudState = name
            $0.cloudSince = now
        }
    }

    /// Reads what needs the store or an actor; the admin service calls it every second.
    func refresh(deviceIds: [String: String]) {
        let oldest = (try? outbox.pending(limit: 1).first?.createdAt) ?? nil
        let held = outbox.held(afterSeq: 0, limit: 1).first?.createdAt
        snapshots.withLock { $0.outboxOldest = [oldest, held].compactMap { $0 }.min() }
        board.setDeviceIds(deviceIds)
        if let modbus = field.withLock({ $0.modbus }) {
            board.modbusCounters(modbus.diagnostics().buses.flatMap(\.devices), now: clock.wallTime())
        }
    }

    // MARK: - AdminResponder

    func status() -> AdminStatus {
        let s = snapshots.withLock { $0 }
        let statistics = session.statistics
        let now = clock.wallTime()
        let devices = board.snapshot()
        var byStatus: [String: Int] = [:]
        var byKind: [String: [String: Int]] = [:]
        for device in devices {
            byStatus[device.status, default: 0] += 1
            byKind[device.kind, default: [:]][device.status, default: 0] += 1
        }
        return AdminStatus(
            version: GatewayInfo.version, pid: pid, started: started,
            uptimeSeconds: startedAt.duration(to: clock.now).seconds, gatewayDeviceId: gatewayDeviceId,
            cloud: .init(state: s.cloudState, since: s.cloudSince, endpoint: endpoint,
                         lastError: statistics.lastFailure, lastErrorAt: statistics.lastFailureAt),
            outbox: .init(messages: outbox.count + outbox.heldCount, bytes: outbox.bytes + outbox.heldBytes,
                          oldestAgeSeconds: s.outboxOldest.map { max(0, now.timeIntervalSince($0)) },
                          dropped: outbox.droppedCount),
            listeners: listeners, children: byStatus, childrenByKind: byKind,
            configFile: configFile, configLoaded: configLoaded,
            serialPorts: field.withLock { $0.serial }?.stats.map { port in
                let c = port.counters, f = c.framing
                return AdminStatus.SerialPort(port: port.port, open: port.open, sharedWithModbus: port.sharedWithModbus, frames: f.frames,
                                              checksumFailures: f.checksumFailures, resyncs: f.resyncs,
                                              rejected: f.rejected - f.checksumFailures, requests: c.requests,
                                              timeouts: c.timeouts, lost: c.lost)
            })
    }

    func devices() -> [AdminDevice] { board.snapshot() }

    func trace(kind: String, target: String, capacity: Int,
               wake: @escaping @Sendable () -> Void) -> Result<TraceSubscription, AdminRefusal> {
        let field = field.withLock { $0 }
        switch kind {
        case "modbus":
            guard let modbus = field.modbus else { return .failure(AdminRefusal("no Modbus bus runs here")) }
            guard modbus.busIds.contains(ModbusBusID(target)) else {
                let known = modbus.busIds.map(\.rawValue).joined(separator: ", ")
                return .failure(AdminRefusal("no bus \(target); the buses are \(known)"))
            }
            return .success(modbusTap.subscribe(target: target, capacity: capacity, wake: wake))
        case "nbiot":
            guard !field.nbiotDevices.isEmpty else { return .failure(AdminRefusal("no NB-IoT device is configured here")) }
            guard field.nbiotDevices.contains(target) else { return .failure(AdminRefusal("no NB-IoT device \(target) in the device list")) }
            return .success(nbiotTap.subscribe(target: target, capacity: capacity, wake: wake))
        default:
            return .failure(AdminRefusal("unknown trace kind \(kind): use modbus or nbiot"))
        }
    }
}
