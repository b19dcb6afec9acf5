import Foundation
import GRDB

/// Commands waiting for sleeping devices, kept across restarts. The body is opaque here: the
/// queue that owns it encodes it.
extension StateStore {
    public func saveQueuedCommand(requestId: String, nodeId: String, body: Data) throws(StoreError) {
        try write("cannot save queued command \(requestId)") { db in
            try db.execute(sql: """
                INSERT INTO queued_command (request_id, node_id, body, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(request_id) DO UPDATE SET node_id = excluded.node_id, body = excluded.body, updated_at = excluded.updated_at
                """, arguments: [requestId, nodeId, body, Date().timeIntervalSince1970])
        }
    }

    public func removeQueuedCommand(requestId: String) throws(StoreError) {
        try write("cannot remove queued command \(requestId)") { db in
            try db.execute(sql: "DELETE FROM queued_command WHERE request_id = ?", arguments: [requestId])
        }
    }

    /// Every queued command's body, oldest first.
    public func queuedCommands() throws(StoreError) -> [Data] {
        try read("cannot read queued commands") { db in
            try Data.fetchAll(db, sql: "SELECT body FROM queued_command ORDER BY updated_at, rowid")
        }
    }
}
