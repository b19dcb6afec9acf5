import Logging
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
