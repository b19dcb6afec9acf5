import CoreMetrics
import Foundation
import GatewayCore
import Logging
import LwM2M
import Modbus
import Serial
import ServiceLifecycle
import Store
import UnixSignals

/// `edgegw run`: load the configuration, open the state store, run every service until
/// SIGTERM or SIGINT, then shut down gracefully within the configured bound.
public enum Daemon {
    /// Installs the stderr log handler once per process.
    public static func bootstrapLogging(level: Logger.Level) {
        StderrLogHandler.sharedLevel.value = level
        LoggingBootstrap.once()
    }

    /// Returns the process exit status.
    public static func run(configPath: String) async -> Int32 {
        bootstrapLogging(level: .info)
        let logger = Logger(label: "edgegw.daemon")
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: configPath) {
        case .success(let l): loaded = l
        case .failure(let errors):
            for diagnostic in errors.diagnostics { logger.error("config: \(diagnostic)") }
            logger.error("not starting: \(errors.diagnostics.count) problem(s) in the configuration; run `edgegw check --config \(configPath)`")
            return 1
        }
        StderrLogHandler.sharedLevel.value = loaded.gateway.log.level.loggerLevel
        logger.info("edgegw \(GatewayInfo.version) starting", metadata: ["config": "\(configPath)", "pid": "\(getpid())"])
        for line in loaded.summary { logger.info("config: \(line)") }

        let store: StateStore
        do {
            store = try StateStore(directory: loaded.gateway.store.stateDirectory)
        } catch {
            logger.error("not starting: \(error)")
            return 1
        }
        logger.info("state store open", metadata: ["path": "\(store.path)"])
        let outbox: Outbox
        let children: [ChildDevice]
        do {
            outbox = try Outbox(store: store, maxBytes: loaded.gateway.store.outboxMaxBytes)
            children = try ChildRegistrySync.reconcile(store: store, configured: loaded.devices, logger: logger)
        } catch {
            logger.error("not starting: \(error)")
            return 1
        }
        if outbox.count > 0 {
            logger.info("outbox holds \(outbox.count) message(s) from before the restart; they go first")
        }
        // The one time base: every service that keeps time gets this clock.
        let clock = GatewayClock.system()
        let metrics = loaded.gateway.metrics.enabled ? GatewayMetrics(maxChildSeries: loaded.gateway.metrics.maxChildSeries) : nil
        let factory = metrics.map { MetricsBootstrap.once($0.registry.factory) } ?? NOOPMetricsHandler.instance
        let cloud = CloudService(config: loaded, store: store, outbox: outbox, children: children, clock: clock,
                                 logger: Logger(label: "edgegw.cloud"), metrics: factory)
        // What edgegw status and devices answer from; the field reports pass its board.
        let admin = DaemonAdmin(loaded: loaded, children: children, session: cloud.session, outbox: outbox, clock: clock)
        let sink = ObservingSink(board: admin.board, next: cloud.bridge, clock: clock)
        var sources = MetricsSources(session: cloud.session, pump: cloud.pump, store: store)
        var fieldServices: [any Service] = []
        // One arbiter per serial port, for ports the Modbus master and serial devices share.
        let serialLines = SerialLineArbiters()
        if !loaded.modbusDevices.isEmpty {
            let modbus = ModbusService(settings: loaded.modbus, devices: loaded.modbusDevices, products: loaded.products,
                                       sink: sink, logger: Logger(label: "edgegw.modbus"), clock: clock, metrics: factory,
                                       trace: admin.modbusTap, lines: loaded.serialDevices.isEmpty ? nil : serialLines)
            sources.modbus = modbus
            await cloud.bridge.register(modbus, for: .modbus)
            admin.attach(modbus: modbus)
            fieldServices.append(FieldServiceRunner(service: modbus, shutdownStart: cloud.shutdownStart))
        }
        if !loaded.serialDevices.isEmpty {
            let codecs = ProductCodecs(codecs: loaded.codecs)
            let serial = SerialService(devices: loaded.serialDevices, decoder: codecs, encoder: codecs, sink: sink, lines: serialLines,
                                       modbusPorts: Set(ConfigLoader.modbusSerialLines(loaded.modbusDevices).keys), clock: clock,
                                       logger: Logger(label: "edgegw.serial"))
            sources.serial = serial
            await cloud.bridge.register(serial, for: .serial)
            admin.attach(serial: serial)
            fieldServices.append(FieldServiceRunner(service: serial, shutdownStart: cloud.shutdownStart))
        }
        // The LwM2M server runs when there are NB-IoT devices, or unknown ones may provision.
        if !loaded.nbiotDevices.isEmpty || loaded.lwm2m.server.autoProvisionProductId != nil {
            let directory = StaticDeviceDirectory(loaded.nbiotDevices)
            let codecs = ProductCodecs(codecs: loaded.codecs)
            let server = LwM2MServer(settings: loaded.lwm2m.server, directory: directory,
                                     logger: Logger(label: "edgegw.coap"), clock: clock, trace: admin.nbiotTap)
            let lwm2m = LwM2MService(server: server, directory: directory, decoder: codecs, encoder: codecs, sink: sink,
                                     store: StoredCommandQueue(store: store, logger: logger), settings: loaded.lwm2m.service,
                                     clock: clock, logger: Logger(label: "edgegw.lwm2m"), metrics: factory)
            sources.lwm2m = lwm2m
            sources.lwm2mServer = server
            await cloud.bridge.register(lwm2m, for: .lwm2m)
            let recorder = ProvisioningRecorder(store: store, clock: clock, logger: Logger(label: "edgegw.provisioning"))
            await lwm2m.attachRegistrationRecorder(recorder)
            fieldServices.append(FieldServiceRunner(service: lwm2m, shutdownStart: cloud.shutdownStart))
            if let bootstrap = BootstrapService.make(loaded: loaded, directory: directory, clock: clock, recorder: recorder) {
                fieldServices.append(bootstrap)
                sources.bootstrap = bootstrap.server
                recorder.bootstrapServer.withLock { $0 = bootstrap.server }
            }
            // After the LwM2M service, so it stops first: it sends through that service.
            if let upgrades = await UpgradeWiring.make(loaded: loaded, store: store, clock: clock, lwm2m: lwm2m, bridge: cloud.bridge,
                                                       shutdownStart: cloud.shutdownStart, logger: logger) {
                fieldServices.append(upgrades)
                sources.upgrades = upgrades.service
            }
        }

        metrics?.attach(sources)
        let running = RunningConfig(loaded)
        let notifier = SystemdNotifier()
        // Trap SIGHUP before anything can tell systemd we are ready to be reloaded.
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        // The group stops services in the reverse of this order, each after the one before has
        // returned: the field services first (`FieldService.finish()`: their last reports go to
        // the bridge), then the cloud, which drains the outbox, then systemd and reload.
        let services: [any Service] = [
            AdminService(settings: loaded.gateway.admin, admin: admin, session: cloud.session, bridge: cloud.bridge, clock: clock,
                         logger: Logger(label: "edgegw.admin")),
            SystemdService(notifier: notifier, status: "\(loaded.devices.count) devices", logger: logger),
        ] + (metrics.map { [MetricsService(settings: loaded.gateway.metrics, metrics: $0, logger: Logger(label: "edgegw.metrics"))] } ?? []) + [
            ReloadService(configPath: configPath, running: running, notifier: notifier, logger: logger, signals: reloadSignals),
            cloud,
        ] + fieldServices
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      cancellationSignals: [], logger: Logger(label: "edgegw.lifecycle"))
        configuration.maximumGracefulShutdownDuration = .seconds(loaded.gateway.limits.shutdownSeconds)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error: \(error)")
            return 1
        }
        logger.info("stopped")
        return 0
    }
}

enum LoggingBootstrap {
    private static let done: Void = {
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label) }
    }()

    static func once() { _ = done }
}
