import GatewayCore
import IoTDA
import PackageCache
import ServiceLifecycle
import Upgrade

/// Where the bridge hands a child's `$ota` events.
protocol OTAEventHandler: Sendable {
    /// nil: the upgrade is taken (its reports follow); otherwise why this gateway cannot take it.
    func upgrade(nodeId: String, notice: UpgradeNotice) async -> String?
    func versionQuery(nodeId: String) async
}

/// `$ota` events to the upgrade service, with each child's product settings (the product's
/// `[upgrade]` table: fragment size, check code).
struct UpgradeRouter: OTAEventHandler {
    let service: UpgradeService
    /// By node id: the NB-IoT children whose product is upgraded over PCP.
    let products: [String: ProductModel.Upgrade]

    func upgrade(nodeId: String, notice: UpgradeNotice) async -> String? {
        guard let product = products[nodeId] else {
            return "child \(nodeId) is not upgraded through this gateway: only NB-IoT devices whose product has an [upgrade] table are"
        }
        await service.upgrade(nodeId: nodeId, notice: notice, product: product)
        return nil
    }

    func versionQuery(nodeId: String) async {
        await service.versionQuery(nodeId: nodeId)
    }
}

/// The upgrade service in the daemon's service group. It stops before the LwM2M server it sends
/// through (the group stops services in reverse order): its tasks are stored as they stand, then
/// the package cache closes its HTTP client (downloads keep their partial files).
struct UpgradeServiceRunner: Service {
    let service: UpgradeService
    let cache: PackageCache
    let shutdownStart: ShutdownStart

    func run() async throws {
        let service = service, shutdownStart = shutdownStart
        await withGracefulShutdownHandler {
            await service.run()
        } onGracefulShutdown: {
            shutdownStart.mark()
            Task { await service.finish() }
        }
        await cache.shutdown()
    }
}

extension CloudBridge: UpgradeReporter {
    func progress(nodeId: String, _ progress: UpgradeProgress) async {
        publishOTA(nodeId: nodeId, kind: "upgrade_progress_report") { deviceId, time in
            EventsMessage.upgradeProgressReport(child: deviceId, progress, at: time)
        }
    }

    func versionReport(nodeId: String, _ report: VersionReport) async {
        publishOTA(nodeId: nodeId, kind: "version_report") { deviceId, time in
            EventsMessage.versionReport(child: deviceId, report, at: time)
        }
    }
}
