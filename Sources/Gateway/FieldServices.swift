import Logging
import LwM2M
import Modbus
import ServiceLifecycle

/// The Modbus master as a lifecycle service: on SIGTERM its buses stop after the request in
/// flight; what it already reported is in the outbox.
struct ModbusRunner: Service {
    let service: ModbusService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await service.run()
        }
    }
}

/// The NB-IoT server as a lifecycle service. Queued commands are in the state store, so a
/// stop loses none of them.
struct LwM2MRunner: Service {
    let service: LwM2MService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await service.run()
        }
    }
}
