import Foundation
import GatewayCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Tells systemd the daemon is up, pings its watchdog, and says STOPPING=1 when a graceful
/// shutdown begins.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let status: String
    let logger: Logger

    func run() async throws {
        notifier.ready(status: status)
        logger.info("ready", metadata: ["status": "\(status)"])
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            notifier.stopping()
            logger.info("stopping")
            return
        }
        let pings = Task {
            while !Task.isCancelled {
                notifier.watchdog()
                try? await Task.sleep(for: interval)
            }
        }
        try? await gracefulShutdown()
        notifier.stopping()
        logger.info("stopping")
        pings.cancel()
    }
}

/// SIGHUP: read and validate the whole configuration again; apply it only if it is valid,
/// otherwise log every problem and keep running on the old one.
struct ReloadService: Service {
    let configPath: String
    let running: RunningConfig
    let notifier: SystemdNotifier
    let logger: Logger
    /// Created before READY=1 is sent: SIGHUP's default action would kill the daemon.
    let signals: UnixSignalsSequence

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        logger.info("reloading configuration", metadata: ["file": "\(configPath)"])
        notifier.reloading()
        defer { notifier.ready() }
        switch ConfigLoader.load(path: configPath) {
        case .failure(let errors):
            for diagnostic in errors.diagnostics {
                logger.error("config: \(diagnostic)")
            }
            logger.error("reload rejected: \(errors.diagnostics.count) problem(s); keeping the running configuration",
                         metadata: ["generation": "\(running.generation)"])
        case .success(let loaded):
            StderrLogHandler.sharedLevel.value = loaded.gateway.log.level.loggerLevel
            running.replace(with: loaded)
            logger.info("configuration reloaded: log level applied; device, product and cloud changes take effect at the next restart",
                        metadata: ["generation": "\(running.generation)"])
            for line in loaded.summary { logger.info("config: \(line)") }
        }
    }
}
