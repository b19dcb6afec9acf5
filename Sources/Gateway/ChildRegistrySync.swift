import Foundation
import GatewayCore
import Logging
import Store

/// Brings the stored registry in line with the configured devices at start and on reload.
enum ChildRegistrySync {
    /// Configured devices are kept with their stored cloud id and status; new ones are added.
    /// Stored children that are no longer configured are only reported: deleting a cloud device
    /// also deletes its history, which a typo in a device file must never do.
    static func reconcile(store: StateStore, configured: [FieldDeviceEntry], logger: Logger) throws(StoreError) -> [ChildDevice] {
        var stored: [String: ChildDevice] = [:]
        for child in try store.allChildren() { stored[child.nodeId] = child }
        var children: [ChildDevice] = []
        for entry in configured {
            var child = stored[entry.nodeId]
                ?? ChildDevice(nodeId: entry.nodeId, productId: entry.productId, source: entry.source, status: .offline)
            if child.productId != entry.productId || child.source != entry.source || child.name != entry.name {
                child.productId = entry.productId
                child.source = entry.source
                child.name = entry.name
                try store.upsertChild(child)
            } else if stored[entry.nodeId] == nil {
                try store.upsertChild(child)
            }
            children.append(child)
        }
        let configuredIds = Set(configured.map(\.nodeId))
        for child in stored.values where !configuredIds.contains(child.nodeId) {
            logger.warning("child \(child.nodeId) (\(child.deviceId ?? "not in the cloud")) is in the state store but no longer configured; delete it on the platform if it is gone for good")
        }
        return children
    }
}
