import GatewayCore
import Logging
import Modbus
import ServiceLifecycle

/// A field service (`FieldService`: LwM2M today, Modbus once it adopts it) as a lifecycle
/// service. On SIGTERM it stops gracefully: `finish()` is called here, and only here, and the
/// service's `run()` returns once the exchanges in flight are done, what stays queued is
/// persisted and the last reports are with the bridge. The group starts the cloud's drain only
/// after that; a service still running at the group's bound is cancelled.
struct FieldServiceRunner: Service {
    let service: any FieldService

    func run() async throws {
        let service = service
        try await withGracefulShutdownHandler {
            try await service.run()
        } onGracefulShutdown: {
            Task { await service.finish() }
        }
    }
}

/// The Modbus master as a lifecycle service: on SIGTERM its buses stop after the request in
/// flight; what it already reported is in the outbox. (Replaced by `FieldServiceRunner` once
/// ModbusService adopts `FieldService`: see the marked line in `Daemon.run`.)
struct ModbusRunner: Service {
    let service: ModbusService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await service.run()
        }
    }
}
