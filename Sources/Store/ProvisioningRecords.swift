import Foundation
import GRDB

/// When each NB-IoT device last finished bootstrap and last registered with the LwM2M server
/// (`edgegw provision list`). One upsert per event.
public struct ProvisioningRecord: Sendable, Equatable {
    public var nodeId: String
    public var bootstrappedAt: Date?
    public var registeredAt: Date?
    /// When the bootstrap server last found the device bootstrapping again and again, and how
    /// many bootstraps it counted in its window then.
    public var bootstrapLoopAt: Date?
    public var bootstrapLoopCount: Int?

    public init(nodeId: String, bootstrappedAt: Date? = nil, registeredAt: Date? = nil, bootstrapLoopAt: Date? = nil,
                bootstrapLoopCount: Int? = nil) {
        self.nodeId = nodeId
        self.bootstrappedAt = bootstrappedAt
        self.registeredAt = registeredAt
        self.bootstrapLoopAt = bootstrapLoopAt
        self.bootstrapLoopCount = bootstrapLoopCount
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

    /// Migration "v7": when a bootstrap loop was found, and its count.
    static func migrateBootstrapLoops(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE provisioning ADD COLUMN bootstrap_loop_at REAL;
            ALTER TABLE provisioning ADD COLUMN bootstrap_loop_count INTEGER;
            """)
    }

    /// The bootstrap server found the device bootstrapping again and again (`count` bootstraps in its window).
    public func recordBootstrapLoop(nodeId: String, count: Int, at time: Date) throws(StoreError) {
        try write("cannot record the bootstrap loop of \(nodeId)") { db in
            try db.execute(sql: """
                INSERT INTO provisioning (node_id, bootstrap_loop_at, bootstrap_loop_count) VALUES (?, ?, ?)
                ON CONFLICT(node_id) DO UPDATE SET bootstrap_loop_at = excluded.bootstrap_loop_at,
                    bootstrap_loop_count = excluded.bootstrap_loop_count
                """, arguments: [nodeId, time.timeIntervalSince1970, count])
        }
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
        // A database a daemon of the previous version wrote has no loop columns yet (the reader runs no migration).
        let columns = Set(try db.columns(in: "provisioning").map(\.name))
        let loops = columns.contains("bootstrap_loop_at") ? ", bootstrap_loop_at, bootstrap_loop_count" : ""
        for row in try Row.fetchAll(db, sql: "SELECT node_id, bootstrapped_at, registered_at\(loops) FROM provisioning") {
            let nodeId: String = row["node_id"]
            let bootstrapped: Double? = row["bootstrapped_at"]
            let registered: Double? = row["registered_at"]
            let loopAt: Double? = loops.isEmpty ? nil : row["bootstrap_loop_at"]
            let loopCount: Int? = loops.isEmpty ? nil : row["bootstrap_loop_count"]
            records[nodeId] = ProvisioningRecord(nodeId: nodeId, bootstrappedAt: bootstrapped.map(Date.init(timeIntervalSince1970:)),
                                                 registeredAt: registered.map(Date.init(timeIntervalSince1970:)),
                                                 bootstrapLoopAt: loopAt.map(Date.init(timeIntervalSince1970:)), bootstrapLoopCount: loopCount)
        }
        return records
    }
}
