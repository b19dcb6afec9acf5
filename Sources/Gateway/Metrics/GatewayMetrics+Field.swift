import Foundation
import LwM2M
import MetricsEndpoint
import Modbus
import Serial
import Store
import Upgrade

/// The field subsystems' snapshots into the registry.
extension GatewayMetrics {
    func sampleModbus(_ diagnostics: ModbusDiagnostics) {
        typealias F = MetricFamilies
        let r = registry
        var devicesShown = 0
        for bus in diagnostics.buses {
            let labels = [("bus", bus.id.rawValue)]
            let c = bus.counters
            r.counter(F.modbusRequests, labels, c.requests)
            r.counter(F.modbusResponses, labels, c.responses)
            r.counter(F.modbusTimeouts, labels, c.timeouts)
            r.counter(F.modbusCRCErrors, labels, c.crcErrors)
            r.counter(F.modbusBadResponses, labels, c.badResponses)
            r.counter(F.modbusConnectionErrors, labels, c.connectionErrors)
            for (code, count) in c.exceptionsByCode {
                r.counter(F.modbusExceptions, labels + [("code", String(code))], count)
            }
            for device in bus.devices where devicesShown < maxChildSeries {
                devicesShown += 1
                r.gauge(F.modbusDeviceOnline, labels + [("node_id", device.nodeId)], device.health == .online ? 1 : 0)
            }
        }
        r.counter(F.modbusValuesReplaced, [], diagnostics.droppedValues)
    }

    func sampleSerial(_ ports: [SerialPortStats], droppedReports: Int) {
        typealias F = MetricFamilies
        let r = registry
        var devicesShown = 0
        for port in ports {
            let labels = [("port", port.port)]
            let c = port.counters
            r.gauge(F.serialPortOpen, labels, port.open ? 1 : 0)
            r.counter(F.serialBytes, labels + [("direction", "in")], c.bytesReceived)
            r.counter(F.serialBytes, labels + [("direction", "out")], c.bytesSent)
            let f = c.framing
            r.counter(F.serialFrames, labels, f.frames)
            for (problem, count) in [("checksum", f.checksumFailures), ("oversized", f.oversized), ("truncated", f.truncated),
                                     ("malformed", f.badEnd + f.badEscape + f.badLength), ("undecodable", c.undecodable),
                                     ("unknown_address", c.unknownAddress), ("echo_mismatch", c.echoMismatches)] {
                r.counter(F.serialFrameErrors, labels + [("problem", problem)], count)
            }
            r.counter(F.serialResyncs, labels, f.resyncs)
            r.counter(F.serialRequests, labels, c.requests)
            r.counter(F.serialTimeouts, labels, c.timeouts)
            r.counter(F.serialPortLost, labels, c.lost)
            for (nodeId, device) in port.devices.sorted(by: { $0.key < $1.key }) where devicesShown < maxChildSeries {
                devicesShown += 1
                r.gauge(F.serialDeviceOnline, labels + [("node_id", nodeId)], device.status == .online ? 1 : 0)
            }
        }
        r.counter(F.serialReportsDropped, [], droppedReports)
    }

    func sampleLwM2MServer(_ c: LwM2MServerCounters) {
        typealias F = MetricFamilies
        let r = registry
        r.counter(F.nbiotHandshakes, [("outcome", "completed")], c.handshakesCompleted)
        r.counter(F.nbiotHandshakes, [("outcome", "failed")], c.handshakesFailed)
        r.counter(F.nbiotHandshakes, [("outcome", "unknown_identity")], c.unknownIdentities)
        r.counter(F.nbiotRegistrations, [("outcome", "accepted")], c.registrations)
        r.counter(F.nbiotRegistrations, [("outcome", "refused")], c.registrationsRefused)
        r.counter(F.nbiotUpdates, [], c.updates)
        r.counter(F.nbiotRegistrationsEnded, [("reason", "deregistered")], c.deregistrations)
        r.counter(F.nbiotRegistrationsEnded, [("reason", "expired")], c.expirations)
        r.counter(F.nbiotNotifications, [], c.notifications)
        r.counter(F.nbiotUplinksDropped, [], c.uplinksDropped)
        r.gauge(F.nbiotSessions, [], c.openSessions)
    }

    func sampleLwM2MService(_ stats: LwM2MService.Stats) {
        for state in CommandState.allCases where state.isFinal {
            registry.counter(MetricFamilies.nbiotCommands, [("state", state.rawValue)], stats.commandsByFinalState[state] ?? 0)
        }
    }

    func sampleBootstrap(_ c: BootstrapCounters) {
        registry.counter(MetricFamilies.bootstraps, [("outcome", "finished")], c.finished)
        registry.counter(MetricFamilies.bootstraps, [("outcome", "unknown_identity")], c.unknownIdentities)
        for (failure, count) in c.failures {
            registry.counter(MetricFamilies.bootstraps, [("outcome", failure.rawValue)], count)
        }
        registry.counter(MetricFamilies.bootstrapLoops, [], c.loopsDetected)
    }

    func sampleUpgrades(_ c: UpgradeCounters, store: StateStore) {
        typealias F = MetricFamilies
        let r = registry
        r.gauge(F.upgradeTasks, [("state", "preparing")], c.preparing)
        r.gauge(F.upgradeTasks, [("state", "waiting_for_device")], c.waitingForDevice)
        r.gauge(F.upgradeTasks, [("state", "waiting_for_slot")], c.waitingForSlot)
        r.gauge(F.upgradeTasks, [("state", "running")], c.running)
        r.counter(F.upgradeFinished, [("outcome", "succeeded")], c.succeeded)
        r.counter(F.upgradeFinished, [("outcome", "failed")], c.failed)
        r.counter(F.upgradeFragments, [], c.fragmentsServed)
        r.counter(F.upgradeBytes, [], c.bytesServed)
        if let packages = try? store.allPackages() {
            r.gauge(F.packageCacheBytes, [], Int(packages.reduce(Int64(0)) { $0 + $1.bytes }))
        }
    }
}
