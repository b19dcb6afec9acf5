import Foundation
import GRDB
import GatewayCore

/// Errors of the state store, mapped to log lines (and, for the outbox, to drop counters).
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case cannotCreateDirectory
        case cannotOpen
        case migrationFailed
        case full
        case io
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }

    static func wrap(_ kind: Kind, _ what: String, _ error: Error) -> StoreError {
        StoreError(kind, "\(what): \(error)")
    }

    /// A failed read or write: `.full` when SQLite says the disk (or the database's page
    /// limit) is full, `.io` otherwise.
    static func wrap(_ what: String, _ error: Error) -> StoreError {
        let full = (error as? DatabaseError)?.resultCode == .SQLITE_FULL
        return wrap(full ? .full : .io, what, error)
    }
}

/// The gateway's durable state: one SQLite database (WAL) in the state directory.
///
/// GRDB's `DatabasePool` serialises writers and lets readers run beside them, so every
/// service shares one `StateStore`.
public final class StateStore: Sendable {
    public static let fileName = "edgegw.sqlite"

    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database under `directory`, created with mode 0700.
    public init(directory: String) throws(StoreError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if !fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError.wrap(.cannotCreateDirectory, "cannot create state directory \(directory)", error)
            }
        } else if !isDirectory.boolValue {
            throw StoreError(.cannotCreateDirectory, "state directory \(directory) exists but is not a directory")
        }
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // NORMAL is durable across process crashes in WAL mode; only power loss can lose
            // the last transactions, which an edge box on a UPS rarely sees.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.wrap(.cannotOpen, "cannot open database \(path)", error)
        }
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.wrap(.migrationFailed, "cannot migrate database \(path)", error)
        }
    }

    /// The schema's versions, in order. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE child_device (
                    node_id    TEXT PRIMARY KEY NOT NULL,
                    device_id  TEXT,
                    product_id TEXT NOT NULL,
                    source     TEXT NOT NULL,
                    status     TEXT NOT NULL,
                    last_seen  REAL,
                    name       TEXT
                );
                CREATE UNIQUE INDEX child_device_device_id ON child_device(device_id) WHERE device_id IS NOT NULL;
                CREATE TABLE gateway_state (
                    key   TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                CREATE TABLE outbox (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind       INTEGER NOT NULL,
                    topic      TEXT NOT NULL,
                    payload    BLOB NOT NULL,
                    node_id    TEXT,
                    created_at REAL NOT NULL
                );
                CREATE INDEX outbox_kind ON outbox(kind, id);
                """)
        }
        migrator.registerMigration("v2") { db in
            // Commands queued for sleeping NB-IoT devices; the body is the queue's own record.
            try db.execute(sql: """
                CREATE TABLE queued_command (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    node_id    TEXT NOT NULL,
                    body       BLOB NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX queued_command_node ON queued_command(node_id);
                """)
        }
        migrator.registerMigration("v3") { db in
            // Outbox lanes: 0 = control (command responses, child management, statuses, events),
            // drained first; 1 = property reports. Every kind but property reports (0) is control.
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;
                UPDATE outbox SET lane = 0 WHERE kind <> 0;
                DROP INDEX outbox_kind;
                CREATE INDEX outbox_lane ON outbox(lane, id);
                """)
        }
        registerPackageCacheMigration(&migrator)
        migrator.registerMigration("v5", migrate: { db in try StateStore.migrateUpgradeTasks(db) })
        migrator.registerMigration("v6", migrate: { db in try StateStore.migrateProvisioning(db) })
        migrator.registerMigration("v7", migrate: { db in try StateStore.migrateBootstrapLoops(db) })
        // A scrape counts children by source and status (`childCounts`): from this index, without
        // sorting the table.
        migrator.registerMigration("v8") { db in
            try db.execute(sql: "CREATE INDEX child_device_source_status ON child_device(source, status)")
        }
        return migrator
    }

    /// Applied migration names, oldest first (for `edgegw status` and tests).
    public func appliedMigrations() throws(StoreError) -> [String] {
        do {
            return try pool.read { db in try Array(Self.migrator.appliedMigrations(db)) }
        } catch {
            throw StoreError.wrap(.io, "cannot read migrations", error)
        }
    }

    func write<T>(_ what: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw StoreError.wrap(what, error) }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw StoreError.wrap(what, error) }
    }

    /// Runs `sql` on the writer connection, outside a transaction, and returns the first
    /// column of its first row, if any. Tests use it to make the database full
    /// (`PRAGMA max_page_count`) and to give it room again.
    @discardableResult
    func writerExecute(_ sql: String) throws(StoreError) -> Int? {
        do {
            return try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: sql) }
        } catch {
            throw StoreError.wrap(sql, error)
        }
    }
}
