import Foundation
import GRDB
import Testing
import TestSupport
@testable import Store

/// When each device finished bootstrap and last registered: one row per device, each event
/// updating only its own column, read back by a reader that writes nothing.
@Suite struct ProvisioningRecordsTests {
    @Test func eachEventUpdatesItsOwnTimeAndTheLatestWins() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        try store.recordBootstrapFinished(nodeId: "861234567890001", at: Date(timeIntervalSince1970: 1_700_000_000))
        try store.recordRegistration(nodeId: "861234567890001", at: Date(timeIntervalSince1970: 1_700_000_002))
        try store.recordRegistration(nodeId: "861234567890001", at: Date(timeIntervalSince1970: 1_700_000_500))
        try store.recordRegistration(nodeId: "861234567890002", at: Date(timeIntervalSince1970: 1_700_000_001))
        let records = try store.provisioningRecords()
        #expect(records["861234567890001"] == ProvisioningRecord(nodeId: "861234567890001",
                                                                 bootstrappedAt: Date(timeIntervalSince1970: 1_700_000_000),
                                                                 registeredAt: Date(timeIntervalSince1970: 1_700_000_500)))
        #expect(records["861234567890002"]?.bootstrappedAt == nil)
        // The reader that `edgegw provision list` uses, beside the open store.
        #expect(try StateStore.provisioningRecords(directory: tmp.path) == records)
    }

    @Test func aBootstrapLoopIsKeptWithItsCountBesideTheTimes() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        try store.recordRegistration(nodeId: "861234567890001", at: Date(timeIntervalSince1970: 1_700_000_000))
        try store.recordBootstrapLoop(nodeId: "861234567890001", count: 3, at: Date(timeIntervalSince1970: 1_700_000_100))
        try store.recordBootstrapLoop(nodeId: "861234567890001", count: 4, at: Date(timeIntervalSince1970: 1_700_000_200))
        let record = try StateStore.provisioningRecords(directory: tmp.path)["861234567890001"]
        #expect(record == ProvisioningRecord(nodeId: "861234567890001", registeredAt: Date(timeIntervalSince1970: 1_700_000_000),
                                             bootstrapLoopAt: Date(timeIntervalSince1970: 1_700_000_200), bootstrapLoopCount: 4))
    }

    @Test func aTableWithoutTheLoopColumnsIsReadAsItIs() throws {
        // What a daemon of the version before bootstrap loops were recorded left behind.
        let tmp = TemporaryDirectory()
        try DatabaseQueue(path: tmp.file(StateStore.fileName)).write { db in
            try db.execute(sql: "CREATE TABLE provisioning (node_id TEXT PRIMARY KEY NOT NULL, bootstrapped_at REAL, registered_at REAL)")
            try db.execute(sql: "INSERT INTO provisioning VALUES ('861234567890001', 1700000000, NULL)")
        }
        let record = try StateStore.provisioningRecords(directory: tmp.path)["861234567890001"]
        #expect(record == ProvisioningRecord(nodeId: "861234567890001", bootstrappedAt: Date(timeIntervalSince1970: 1_700_000_000)))
    }

    @Test func theReadOnlyReaderCreatesNothing() throws {
        let tmp = TemporaryDirectory()
        let missing = tmp.file("no-state-yet")
        #expect(try StateStore.provisioningRecords(directory: missing).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: missing))
        // A database from before the table existed: no records, and no migration run.
        let path = tmp.file("old/\(StateStore.fileName)")
        try FileManager.default.createDirectory(atPath: tmp.file("old"), withIntermediateDirectories: true)
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE child_device (node_id TEXT)") }
        #expect(try StateStore.provisioningRecords(directory: tmp.file("old")).isEmpty)
        let tables = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master") }
        #expect(tables == ["child_device"])
    }

    @Test func aClosedWALDatabaseIsReadWithoutItsSharedMemoryFile() throws {
        let tmp = TemporaryDirectory()
        do {
            let store = try StateStore(directory: tmp.path)
            try store.recordRegistration(nodeId: "861234567890001", at: Date(timeIntervalSince1970: 1_700_000_000))
        }
        // The last connection closed: SQLite removed -wal and -shm (or left them); either way it reads.
        #expect(try StateStore.provisioningRecords(directory: tmp.path)["861234567890001"]?.registeredAt
                == Date(timeIntervalSince1970: 1_700_000_000))
    }
}
