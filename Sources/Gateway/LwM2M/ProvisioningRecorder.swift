import Foundation
import GatewayCore
import Logging
import LwM2M
import Store

/// Records in the state store when each NB-IoT device finished bootstrap and when it last
/// registered (`edgegw provision list`): one upsert per event. A failed write is logged, never
/// fatal: the record is a convenience for the technician, not state the daemon runs on.
struct ProvisioningRecorder: RegistrationRecorder {
    let store: StateStore
    let clock: GatewayClock
    let logger: Logger
    /// Told when a device is observed, so a bootstrap loop it was in ends (set once the bootstrap server exists).
    let bootstrapServer = Locked<BootstrapServer?>(nil)

    func registered(nodeId: String, at time: Date) async {
        do { try store.recordRegistration(nodeId: nodeId, at: time) } catch {
            logger.warning("provisioning state not recorded", metadata: ["node": "\(nodeId)", "error": "\(error)"])
        }
    }

    func observed(nodeId: String) async {
        bootstrapServer.withLock { $0 }?.settled(endpoint: nodeId)
    }

    /// The bootstrap server found the device bootstrapping again and again.
    func bootstrapLoop(nodeId: String, count: Int) {
        do { try store.recordBootstrapLoop(nodeId: nodeId, count: count, at: clock.wallTime()) } catch {
            logger.warning("provisioning state not recorded", metadata: ["node": "\(nodeId)", "error": "\(error)"])
        }
    }

    /// After Bootstrap-Finish was acknowledged, at the gateway's wall time.
    func bootstrapFinished(nodeId: String) {
        do { try store.recordBootstrapFinished(nodeId: nodeId, at: clock.wallTime()) } catch {
            logger.warning("provisioning state not recorded", metadata: ["node": "\(nodeId)", "error": "\(error)"])
        }
    }
}
