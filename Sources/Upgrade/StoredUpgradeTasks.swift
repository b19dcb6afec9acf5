import Foundation
import Logging
import Store

/// `UpgradeTaskStore` over the gateway's SQLite store (table `upgrade_task`, one JSON record per
/// child). A write that fails is logged: the task runs on, and a restart before its next save
/// resumes it from the previous record.
public struct StoredUpgradeTasks: UpgradeTaskStore {
    let store: StateStore
    let logger: Logger

    public init(_ store: StateStore, logger: Logger = Logger(label: "edgegw.upgrade")) {
        self.store = store
        self.logger = logger
    }

    public func save(nodeId: String, _ record: UpgradeTaskRecord) async {
        do {
            try store.saveUpgradeTask(nodeId: nodeId, body: try JSONEncoder().encode(record))
        } catch {
            logger.error("\(nodeId): upgrade task not stored: \(error)", metadata: ["node": "\(nodeId)"])
        }
    }

    public func remove(nodeId: String) async {
        do {
            try store.removeUpgradeTask(nodeId: nodeId)
        } catch {
            logger.error("\(nodeId): finished upgrade task not removed from the store: \(error)", metadata: ["node": "\(nodeId)"])
        }
    }

    public func loadAll() async -> [String: UpgradeTaskRecord] {
        let bodies: [String: Data]
        do {
            bodies = try store.upgradeTasks()
        } catch {
            logger.error("stored upgrade tasks cannot be read: \(error)")
            return [:]
        }
        var records: [String: UpgradeTaskRecord] = [:]
        let decoder = JSONDecoder()
        for (nodeId, body) in bodies {
            do {
                records[nodeId] = try decoder.decode(UpgradeTaskRecord.self, from: body)
            } catch {
                logger.error("\(nodeId): stored upgrade task unreadable, dropped: \(error)", metadata: ["node": "\(nodeId)"])
                try? store.removeUpgradeTask(nodeId: nodeId)
            }
        }
        return records
    }
}
