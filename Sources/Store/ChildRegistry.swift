import Foundation
import GRDB
import GatewayCore

/// The child-device registry and the cloud's sub-device list `version`.
extension StateStore {
    public static let subDeviceVersionKey = "sub_device_version"

    public func upsertChild(_ child: ChildDevice) throws(StoreError) {
        try write("cannot save child \(child.nodeId)") { db in
            try db.execute(sql: """
                INSERT INTO child_device (node_id, device_id, product_id, source, status, last_seen, name)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(node_id) DO UPDATE SET device_id = excluded.device_id, product_id = excluded.product_id,
                    source = excluded.source, status = excluded.status, last_seen = excluded.last_seen, name = excluded.name
                """, arguments: [child.nodeId, child.deviceId, child.productId, child.source.rawValue,
                                 child.status.rawValue, child.lastSeen?.timeIntervalSince1970, child.name])
        }
    }

    public func child(nodeId: String) throws(StoreError) -> ChildDevice? {
        try read("cannot read child \(nodeId)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM child_device WHERE node_id = ?", arguments: [nodeId]).map(Self.child(from:))
        }
    }

    public func child(deviceId: String) throws(StoreError) -> ChildDevice? {
        try read("cannot read child with device_id \(deviceId)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM child_device WHERE device_id = ?", arguments: [deviceId]).map(Self.child(from:))
        }
    }

    public func allChildren() throws(StoreError) -> [ChildDevice] {
        try read("cannot read children") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM child_device ORDER BY node_id").map(Self.child(from:))
        }
    }

    /// The number of children of each source and status, counted by SQLite (a scrape with
    /// 10,000 modules reads a dozen rows, not 10,000).
    public func childCounts() throws(StoreError) -> [ChildSource: [ChildStatus: Int]] {
        try read("cannot count children") { db in
            var counts: [ChildSource: [ChildStatus: Int]] = [:]
            let rows = try Row.fetchAll(db, sql: Self.childCountsSQL)
            for row in rows {
                let source = ChildSource(rawValue: row["source"] ?? "") ?? .modbus
                let status = ChildStatus(rawValue: row["status"] ?? "") ?? .offline
                counts[source, default: [:]][status, default: 0] += row["n"] ?? 0
            }
            return counts
        }
    }

    /// Read from the index on (source, status) (migration v8), without sorting the table.
    static let childCountsSQL = "SELECT source, status, COUNT(*) AS n FROM child_device GROUP BY source, status"

    /// The first `limit` children by node id.
    public func children(limit: Int) throws(StoreError) -> [ChildDevice] {
        try read("cannot read children") { db in
            // Columns by position: a lookup by name lowercases the name for every row and column.
            try Row.fetchAll(db, sql: "SELECT \(Self.childColumns) FROM child_device ORDER BY node_id LIMIT ?", arguments: [max(0, limit)])
                .map(Self.child(positional:))
        }
    }

    public func setChildStatus(nodeId: String, status: ChildStatus, lastSeen: Date?) throws(StoreError) {
        try write("cannot update status of \(nodeId)") { db in
            try db.execute(sql: "UPDATE child_device SET status = ?, last_seen = COALESCE(?, last_seen) WHERE node_id = ?",
                           arguments: [status.rawValue, lastSeen?.timeIntervalSince1970, nodeId])
        }
    }

    public func setChildDeviceId(nodeId: String, deviceId: String?) throws(StoreError) {
        try write("cannot set device_id of \(nodeId)") { db in
            try db.execute(sql: "UPDATE child_device SET device_id = ? WHERE node_id = ?", arguments: [deviceId, nodeId])
        }
    }

    public func deleteChild(nodeId: String) throws(StoreError) {
        try write("cannot delete child \(nodeId)") { db in
            try db.execute(sql: "DELETE FROM child_device WHERE node_id = ?", arguments: [nodeId])
        }
    }

    public func subDeviceVersion() throws(StoreError) -> Int64? {
        try stateValue(Self.subDeviceVersionKey).flatMap { Int64($0) }
    }

    public func setSubDeviceVersion(_ version: Int64) throws(StoreError) {
        try setStateValue(Self.subDeviceVersionKey, String(version))
    }

    public func stateValue(_ key: String) throws(StoreError) -> String? {
        try read("cannot read \(key)") { db in
            try String.fetchOne(db, sql: "SELECT value FROM gateway_state WHERE key = ?", arguments: [key])
        }
    }

    public func setStateValue(_ key: String, _ value: String) throws(StoreError) {
        try write("cannot save \(key)") { db in
            try db.execute(sql: "INSERT INTO gateway_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }

    static let childColumns = "node_id, device_id, product_id, source, status, last_seen, name"

    /// A row of `SELECT childColumns`.
    static func child(positional row: Row) -> ChildDevice {
        ChildDevice(nodeId: row[0], deviceId: row[1], productId: row[2],
                    source: ChildSource(rawValue: row[3] ?? "") ?? .modbus,
                    status: ChildStatus(rawValue: row[4] ?? "") ?? .offline,
                    lastSeen: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)),
                    name: row[6])
    }

    static func child(from row: Row) -> ChildDevice {
        ChildDevice(nodeId: row["node_id"], deviceId: row["device_id"], productId: row["product_id"],
                    source: ChildSource(rawValue: row["source"] ?? "") ?? .modbus,
                    status: ChildStatus(rawValue: row["status"] ?? "") ?? .offline,
                    lastSeen: (row["last_seen"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    name: row["name"])
    }
}
