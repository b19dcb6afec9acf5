import CoreMetrics
import GatewayCore
import Logging
import MetricsEndpoint
import ServiceLifecycle

/// `[metrics]` in the service group: the endpoint serves until the graceful shutdown. A port
/// that cannot be bound is logged and the daemon runs on without metrics: the field and the
/// cloud matter more than a scrape.
struct MetricsService: Service {
    let settings: GatewayConfig.Metrics
    let metrics: GatewayMetrics
    let logger: Logger

    func run() async throws {
        let metrics = metrics
        let server = MetricsHTTPServer(logger: logger) { await metrics.scrape() }
        do {
            _ = try await server.start(host: settings.host, port: settings.port)
        } catch {
            logger.error("metrics endpoint off: cannot listen on \(settings.listen): \(error)",
                         metadata: ["fix": "free the port or set [metrics] listen to another address"])
            await server.stop()
            try? await gracefulShutdown()
            return
        }
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// swift-metrics' process-wide factory, set once per process to the daemon's registry (so a
/// library that records through the global system lands there too). The daemon passes the
/// factory to its services itself; tests that run the services in-process make their own.
enum MetricsBootstrap {
    private static let installed = Locked(false)

    /// Returns `factory`.
    static func once(_ factory: any MetricsFactory) -> any MetricsFactory {
        let first = installed.withLock { done in defer { done = true }; return !done }
        if first { MetricsSystem.bootstrap(factory) }
        return factory
    }
}
