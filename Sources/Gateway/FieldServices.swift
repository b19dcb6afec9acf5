import GatewayCore
import ServiceLifecycle

/// A field service (`FieldService`: the Modbus master, the LwM2M server) as a lifecycle
/// service. On SIGTERM it stops gracefully: `finish()` is called here, and only here, and the
/// service's `run()` returns once the exchanges in flight are done, what stays queued is
/// persisted and the last reports are with the bridge. The group starts the cloud's drain only
/// after that; a service still running at the group's bound is cancelled.
struct FieldServiceRunner: Service {
    let service: any FieldService
    /// Marked when this service's stop begins: the cloud's drain gets what is left of the bound.
    let shutdownStart: ShutdownStart

    func run() async throws {
        let service = service, shutdownStart = shutdownStart
        try await withGracefulShutdownHandler {
            try await service.run()
        } onGracefulShutdown: {
            shutdownStart.mark()
            Task { await service.finish() }
        }
    }
}

/// When the graceful shutdown began (the first service to stop marks it), so the services that
/// stop later take only what is left of `limits.shutdown_seconds`.
final class ShutdownStart: Sendable {
    private let clock: GatewayClock
    private let started = Locked<GatewayClock.Instant?>(nil)

    init(clock: GatewayClock) { self.clock = clock }

    func mark() {
        let now = clock.now
        started.withLock { if $0 == nil { $0 = now } }
    }

    /// Since the first mark (zero, and marked now, if there was none).
    func elapsed() -> Duration {
        mark()
        let now = clock.now
        return started.withLock { $0 }.map { $0.duration(to: now) } ?? .zero
    }
}
