import GatewayCore
import LwM2M
import Logging
import PackageCache
import Store
import Upgrade

/// Puts the upgrade side together when the site has something to upgrade: NB-IoT devices whose
/// product has an `[upgrade]` table. The package cache lives under the state directory; the
/// upgrade service talks to the devices through the LwM2M service and to the cloud through the
/// bridge.
enum UpgradeWiring {
    /// The NB-IoT children upgraded over PCP, with their product's settings.
    static func upgradeProducts(_ loaded: LoadedConfig) -> [String: ProductModel.Upgrade] {
        var products: [String: ProductModel.Upgrade] = [:]
        for device in loaded.nbiotDevices {
            if let upgrade = loaded.products[device.productId]?.upgrade { products[device.nodeId] = upgrade }
        }
        return products
    }

    /// nil when nothing here is upgraded, or the cache cannot start (logged: the rest runs on).
    static func make(loaded: LoadedConfig, store: StateStore, clock: GatewayClock, lwm2m: LwM2MService,
                     bridge: CloudBridge, shutdownStart: ShutdownStart, logger: Logger) async -> UpgradeServiceRunner? {
        let products = upgradeProducts(loaded)
        guard !products.isEmpty else { return nil }
        let settings = loaded.gateway.upgrade
        let cache: PackageCache
        do {
            cache = try PackageCache(settings: .init(stateDirectory: loaded.gateway.store.stateDirectory,
                                                     maxBytes: Int64(settings.cacheMaxBytes), caFile: settings.caFile,
                                                     verifyTLS: settings.verifyTLS),
                                     store: store, clock: clock, logger: Logger(label: "edgegw.packages"))
        } catch {
            logger.error("software upgrades are off: the package cache cannot start: \(error)")
            return nil
        }
        let upgrades = UpgradeService(config: settings, cellLimit: { $0.flatMap(CoverageLevel.perCellConcurrency) },
                                      packages: PackageCacheSource(cache: cache, clock: clock), downlink: lwm2m,
                                      reporter: bridge, store: StoredUpgradeTasks(store, logger: Logger(label: "edgegw.upgrade")),
                                      clock: clock, logger: Logger(label: "edgegw.upgrade"))
        await lwm2m.attachUpgrades(upgrades)
        await bridge.registerUpgrades(UpgradeRouter(service: upgrades, products: products))
        logger.info("software upgrades on for \(products.count) NB-IoT device(s): \(settings.summary)")
        return UpgradeServiceRunner(service: upgrades, cache: cache, shutdownStart: shutdownStart)
    }
}
