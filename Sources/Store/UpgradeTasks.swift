import Foundation
import GRDB

/// PCP upgrade tasks, one per child, kept across restarts. The body is opaque here: the upgrade
/// service encodes it (JSON of its task record: notice, product settings, the machine's snapshot
/// and the wall time it was taken).
extension StateStore {
    /// Migration "v5": the `upgrade_task` table.
    static func migrateUpgradeTasks(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE upgrade_task (
                node_id    TEXT PRIMARY KEY NOT NULL,
                body       BLOB NOT NULL,
                updated_at REAL NOT NULL
            );
            """)
    }

    public func saveUpgradeTask(nodeId: String, body: Data) throws(StoreError) {
        try write("cannot save upgrade task of \(nodeId)") { db in
            try db.execute(sql: """
                INSERT INTO upgrade_task (node_id, body, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(node_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
                """, arguments: [nodeId, body, Date().timeIntervalSince1970])
        }
    }

    public func removeUpgradeTask(nodeId: String) throws(StoreError) {
        try write("cannot remove upgrade task of \(nodeId)") { db in
            try db.execute(sql: "DELETE FROM upgrade_task WHERE node_id = ?", arguments: [nodeId])
        }
    }

    /// Every stored task's body by child.
    public func upgradeTasks() throws(StoreError) -> [String: Data] {
        try read("cannot read upgrade tasks") { db in
            var bodies: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT node_id, body FROM upgrade_task") {
                let nodeId: String = row["node_id"]
                let body: Data = row["body"]
                bodies[nodeId] = body
            }
            return bodies
        }
    }
}
