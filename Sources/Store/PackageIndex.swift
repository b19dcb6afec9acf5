import Foundation
import GRDB
import GatewayCore

/// One row of the package cache's index (table `package_cache`, migration v4): what the cache
/// knows of a package identity across restarts.
public struct PackageRecord: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Bytes so far are in the partial file `partialPath`.
        case downloading
        /// The complete, verified package is at `path`, its SHA-256 `sha256`.
        case verified
        /// The download ended without a package; `reason` says why.
        case failed
    }

    public var identity: String
    public var state: State
    public var expectedSize: Int64?
    public var expectedSHA256: String?
    public var bytes: Int64
    public var path: String?
    public var sha256: String?
    public var reason: String?
    public var updatedAt: Date

    public init(identity: String, state: State, expectedSize: Int64? = nil, expectedSHA256: String? = nil,
                bytes: Int64 = 0, path: String? = nil, sha256: String? = nil, reason: String? = nil,
                updatedAt: Date) {
        self.identity = identity
        self.state = state
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
        self.bytes = bytes
        self.path = path
        self.sha256 = sha256
        self.reason = reason
        self.updatedAt = updatedAt
    }
}

extension StateStore {
    static func registerPackageCacheMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4") { db in
            // The package cache's index: one row per package identity.
            try db.execute(sql: """
                CREATE TABLE package_cache (
                    identity        TEXT PRIMARY KEY NOT NULL,
                    state           TEXT NOT NULL,
                    expected_size   INTEGER,
                    expected_sha256 TEXT,
                    bytes           INTEGER NOT NULL DEFAULT 0,
                    path            TEXT,
                    sha256          TEXT,
                    reason          TEXT,
                    updated_at      REAL NOT NULL
                );
                """)
        }
    }

    public func savePackage(_ record: PackageRecord) throws(StoreError) {
        try write("cannot save package \(record.identity)") { db in
            try db.execute(sql: """
                INSERT INTO package_cache (identity, state, expected_size, expected_sha256, bytes, path, sha256, reason, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(identity) DO UPDATE SET state = excluded.state, expected_size = excluded.expected_size,
                    expected_sha256 = excluded.expected_sha256, bytes = excluded.bytes, path = excluded.path,
                    sha256 = excluded.sha256, reason = excluded.reason, updated_at = excluded.updated_at
                """, arguments: [record.identity, record.state.rawValue, record.expectedSize, record.expectedSHA256,
                                 record.bytes, record.path, record.sha256, record.reason,
                                 record.updatedAt.timeIntervalSince1970])
        }
    }

    public func package(identity: String) throws(StoreError) -> PackageRecord? {
        try read("cannot read package \(identity)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM package_cache WHERE identity = ?", arguments: [identity])
                .map(Self.packageRecord(from:))
        }
    }

    public func allPackages() throws(StoreError) -> [PackageRecord] {
        try read("cannot read packages") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM package_cache ORDER BY identity").map(Self.packageRecord(from:))
        }
    }

    public func deletePackage(identity: String) throws(StoreError) {
        try write("cannot delete package \(identity)") { db in
            try db.execute(sql: "DELETE FROM package_cache WHERE identity = ?", arguments: [identity])
        }
    }

    static func packageRecord(from row: Row) -> PackageRecord {
        PackageRecord(identity: row["identity"],
                      state: PackageRecord.State(rawValue: row["state"] ?? "") ?? .failed,
                      expectedSize: row["expected_size"], expectedSHA256: row["expected_sha256"],
                      bytes: row["bytes"] ?? 0, path: row["path"], sha256: row["sha256"], reason: row["reason"],
                      updatedAt: Date(timeIntervalSince1970: row["updated_at"] ?? 0))
    }
}
