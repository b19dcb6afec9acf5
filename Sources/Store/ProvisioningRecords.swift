import Foundation
import GRDB

/// When each NB-IoT device last finished bootstrap and last registered with the LwM2M server
/// (`edgegw provision list`). One upsert per event.
public struct ProvisioningRecord: Sendable, Equatable {
    public var nodeId: String
    public var bootstrappedAt: Date?
    public var registeredAt: Date?

    public init(nodeId: String, bootstrappedAt: Date? = nil, registeredAt: Date? = nil) {
        self.nodeId = nodeId
        self.bootstrappedAt = bootstrappedAt
        self.registeredAt = registeredAt
    }
}

extension StateStore {
    /// Migration "v6": the `provisioning` table.
    static func migrateProvisioning(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE provisioning (
                node_id         TEXT PRIMARY KEY NOT NULL,
                bootstrapped_at REAL,
                registered_at   REAL
            );
            """)
    }

    /// The device finished bootstrap (Bootstrap-Finish acknowledged) at `time`.
    public func recordBootstrapFinished(nodeId: String, at time: Date) throws(StoreError) {
        try write("cannot record the bootstrap of \(nodeId)") { db in
            try db.execute(sql: """
                INSERT INTO provisioning (node_id, bootstrapped_at) VALUES (?, ?)
                ON CONFLICT(node_id) DO UPDATE SET bootstrapped_at = excluded.bootstrapped_at
                """, arguments: [nodeId, time.timeIntervalSince1970])
        }
    }

    /// The device registered (a Register, not an Update) at `time`.
    public func recordRegistration(nodeId: String, at time: Date) throws(StoreError) {
        try write("cannot record the registration of \(nodeId)") { db in
            try db.execute(sql: """
                INSERT INTO provisioning (node_id, registered_at) VALUES (?, ?)
                ON CONFLICT(node_id) DO UPDATE SET registered_at = excluded.registered_at
                """, arguments: [nodeId, time.timeIntervalSince1970])
        }
    }

    public func provisioningRecords() throws(StoreError) -> [String: ProvisioningRecord] {
        try read("cannot read provisioning records") { db in try Self.provisioningRecords(db) }
    }

    /// The records in the database of `directory`, read without writing anything: no directory,
    /// database or table is created and no migration runs, so a running daemon is not disturbed
    /// (WAL lets this reader beside its writer). None when there is no database or table yet.
    public static func provisioningRecords(directory: String) throws(StoreError) -> [String: ProvisioningRecord] {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                guard try db.tableExists("provisioning") else { return [:] }
                return try provisioningRecords(db)
            }
        } catch {
            throw StoreError.wrap(.cannotOpen, "cannot read database \(path)", error)
        }
    }

    static func provisioningRecords(_ db: Database) throws -> [String: ProvisioningRecord] {
        var records: [String: ProvisioningRecord] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT node_id, bootstrapped_at, registered_at FROM provisioning") {
            let nodeId: String = row["node_id"]
            let bootstrapped: Double? = row["bootstrapped_at"]
            let registered: Double? = row["registered_at"]
            records[nodeId] = ProvisioningRecord(nodeId: nodeId, bootstrappedAt: bootstrapped.map(Date.init(timeIntervalSince1970:)),
                                                 registeredAt: registered.map(Date.init(timeIntervalSince1970:)))
        }
        return records
    }
}
