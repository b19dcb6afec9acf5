import Admin
import CloudLink
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle

/// Serves the admin socket for the daemon's whole life (it is stopped last, so `edgegw status`
/// answers through the graceful stop too) and refreshes the snapshots it answers from.
struct AdminService: Service {
    /// How often the outbox's oldest message, the device ids and the Modbus counters are read.
    static let refreshInterval: Duration = .seconds(1)

    let settings: GatewayConfig.Admin
    let admin: DaemonAdmin
    let session: CloudSession
    let bridge: CloudBridge
    let clock: GatewayClock
    let logger: Logger

    func run() async throws {
        var server: AdminServer?
        if settings.enabled {
            do {
                server = try AdminServer(path: settings.socket, responder: admin, logger: logger)
                logger.info("admin socket listening", metadata: ["path": "\(settings.socket)"])
            } catch {
                logger.error("admin socket not available: \(error); edgegw status, devices and trace will not answer")
            }
        }
        let admin = admin, session = session, bridge = bridge, clock = clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await state in session.stateChanges() { admin.cloudStateChanged(state) }
            }
            group.addTask {
                while !Task.isCancelled {
                    admin.refresh(deviceIds: await bridge.deviceIds())
                    try? await clock.sleep(for: Self.refreshInterval)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        server?.stop()
    }
}

extension CloudBridge {
    /// The platform's device id of each child it has added.
    func deviceIds() -> [String: String] {
        sync.children.compactMapValues(\.deviceId)
    }
}
