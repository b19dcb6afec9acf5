import CloudLink
import Foundation
import GatewayCore
import LwM2M
import MetricsEndpoint
import Modbus
import Serial
import Store
import Upgrade

/// What a scrape reads: the subsystems the daemon runs (absent ones are left out).
struct MetricsSources: Sendable {
    var session: CloudSession
    var pump: OutboxPump
    var store: StateStore
    var modbus: ModbusService?
    var serial: SerialService?
    var lwm2m: LwM2MService?
    var lwm2mServer: LwM2MServer?
    var bootstrap: BootstrapServer?
    var upgrades: UpgradeService?
}

/// The daemon's metrics: the histograms recorded where events happen (through `registry.factory`),
/// and at each scrape the subsystems' counter snapshots sampled into the registry
/// (`MetricFamilies`). Reading the snapshots takes a lock or an actor hop per subsystem; the
/// cost grows with the children only up to `maxChildSeries` series.
final class GatewayMetrics: Sendable {
    let registry: MetricsRegistry
    let maxChildSeries: Int
    private let sources: Locked<MetricsSources?> = Locked(nil)

    init(registry: MetricsRegistry = GatewayMetrics.makeRegistry(), maxChildSeries: Int) {
        self.registry = registry
        self.maxChildSeries = maxChildSeries
        registry.gauge(MetricFamilies.buildInfo, [
            ("version", GatewayInfo.version), ("libcoap", CoAPLibrary.version),
            ("libmodbus", ModbusLibrary.version), ("libmosquitto", MosquittoLibrary.version),
        ], 1)
    }

    static func makeRegistry() -> MetricsRegistry { MetricsRegistry() }

    /// Set once the services exist; scrapes before it show the build info only.
    func attach(_ sources: MetricsSources) { self.sources.withLock { $0 = sources } }

    /// Samples every subsystem, then renders the text format.
    func scrape() async -> [UInt8] {
        if let sources = sources.withLock({ $0 }) {
            sampleCloud(sources)
            sampleChildren(sources.store)
            if let modbus = sources.modbus { sampleModbus(modbus.diagnostics()) }
            if let serial = sources.serial { sampleSerial(serial.stats, droppedReports: serial.droppedReports) }
            if let server = sources.lwm2mServer { sampleLwM2MServer(server.counters) }
            if let lwm2m = sources.lwm2m { sampleLwM2MService(await lwm2m.stats) }
            if let bootstrap = sources.bootstrap { sampleBootstrap(bootstrap.counters) }
            if let upgrades = sources.upgrades { sampleUpgrades(await upgrades.status(), store: sources.store) }
        }
        return registry.render()
    }

    private func sampleCloud(_ sources: MetricsSources) {
        typealias F = MetricFamilies
        let r = registry
        let connected = sources.session.state != .disconnected
        let statistics = sources.session.statistics
        r.gauge(F.cloudConnected, [], connected ? 1 : 0)
        r.counter(F.cloudConnects, [], statistics.connects)
        r.counter(F.cloudConnectFailures, [("reason", "refused")], statistics.refusals)
        r.counter(F.cloudConnectFailures, [("reason", "unreachable")],
                  max(0, statistics.connectAttempts - statistics.connects - statistics.refusals))
        for reason in CloudDisconnectReason.allCases {
            r.counter(F.cloudDisconnects, [("reason", reason.rawValue)], statistics.disconnects[reason] ?? 0)
        }
        let pump = sources.pump.counters
        r.counter(F.cloudPublishes, [], pump.published)
        r.counter(F.cloudPubacks, [], pump.acknowledged)
        r.counter(F.cloudReplays, [], pump.replayed)
        r.gauge(F.outboxRows, [], pump.pending + pump.held)
        r.gauge(F.outboxInFlight, [], pump.inFlight)
        r.counter(F.outboxDrops, [("reason", "bound")], pump.droppedByBound)
        r.counter(F.outboxDrops, [("reason", "storage")], pump.droppedByStorage)
        r.counter(F.outboxDrops, [("reason", "rejected")], pump.rejected)
        let outbox = sources.pump.outbox
        r.gauge(F.outboxBytes, [], outbox.bytes)
        let oldest = [(try? outbox.pending(limit: 1))?.first?.createdAt, outbox.held(afterSeq: 0, limit: 1).first?.createdAt]
            .compactMap { $0 }.min()
        r.gauge(F.outboxOldestAge, [], oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
    }

    /// Counts by kind and status from SQLite's GROUP BY, and a series each for the first
    /// `maxChildSeries` children by node id: the rows read do not grow past the cap.
    func sampleChildren(_ store: StateStore) {
        guard let counts = try? store.childCounts(), let shown = try? store.children(limit: maxChildSeries) else { return }
        var total = 0
        for source in ChildSource.allCases {
            for status in ChildStatus.allCases {
                let count = counts[source]?[status] ?? 0
                total += count
                registry.gauge(MetricFamilies.children, [("kind", Self.kind(source)), ("status", status.rawValue)], count)
            }
        }
        for child in shown {
            registry.gauge(MetricFamilies.childOnline, [("kind", Self.kind(child.source)), ("node_id", child.nodeId)],
                           child.status == .online ? 1 : 0)
        }
        registry.gauge(MetricFamilies.childSeriesOmitted, [], max(0, total - shown.count))
    }

    /// The kind as operators say it.
    static func kind(_ source: ChildSource) -> String { source == .lwm2m ? "nbiot" : source.rawValue }
}
