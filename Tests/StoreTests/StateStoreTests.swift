import Foundation
import GRDB
import Testing
import TestSupport
@testable import GatewayCore
@testable import Store

@Suite struct StateStoreTests {
    @Test func createsTheStateDirectoryWithMode0700AndMigrates() throws {
        let tmp = TemporaryDirectory()
        let dir = tmp.file("a/b/state")
        let store = try StateStore(directory: dir)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int)
        #expect(mode == 0o700)
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"])
        // Reopening applies nothing twice.
        #expect(try StateStore(directory: dir).appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"])
    }

    @Test func registryAndVersionSurviveReopen() throws {
        let tmp = TemporaryDirectory()
        do {
            let store = try StateStore(directory: tmp.path)
            try store.upsertChild(ChildDevice(nodeId: "863921034567890", productId: "water-meter", source: .lwm2m))
            try store.setChildDeviceId(nodeId: "863921034567890", deviceId: "dev-1")
            try store.setChildStatus(nodeId: "863921034567890", status: .online, lastSeen: Date(timeIntervalSince1970: 1_700_000_000))
            try store.setSubDeviceVersion(42)
        }
        let store = try StateStore(directory: tmp.path)
        let child = try #require(try store.child(nodeId: "863921034567890"))
        #expect(child.deviceId == "dev-1")
        #expect(child.status == .online)
        #expect(child.lastSeen == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(try store.child(deviceId: "dev-1")?.nodeId == "863921034567890")
        #expect(try store.subDeviceVersion() == 42)
        try store.deleteChild(nodeId: "863921034567890")
        #expect(try store.allChildren().isEmpty)
    }

    @Test func aFileWhereTheDirectoryShouldBeIsATypedError() {
        let tmp = TemporaryDirectory()
        let path = tmp.write("not-a-dir", "x")
        #expect(throws: StoreError.self) { try StateStore(directory: path) }
    }

    @Test func childCountsAndTheFirstChildrenByNodeIdAreReadWithoutEveryRow() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        #expect(try store.childCounts().isEmpty)
        #expect(try store.children(limit: 3).isEmpty)
        for index in [5, 1, 4, 2, 3] {
            try store.upsertChild(ChildDevice(nodeId: "86000000000000\(index)", productId: "water-meter", source: .lwm2m))
        }
        try store.upsertChild(ChildDevice(nodeId: "meter-1", productId: "power-meter", source: .modbus, name: "Meter 1"))
        try store.setChildStatus(nodeId: "860000000000002", status: .online, lastSeen: nil)
        try store.setChildStatus(nodeId: "meter-1", status: .online, lastSeen: Date(timeIntervalSince1970: 1_700_000_000))
        try store.setChildDeviceId(nodeId: "meter-1", deviceId: "power-meter_meter-1")
        let counts = try store.childCounts()
        #expect(counts == [.lwm2m: [.offline: 4, .online: 1], .modbus: [.online: 1]], "\(counts)")
        #expect(try store.children(limit: 3).map(\.nodeId) == ["860000000000001", "860000000000002", "860000000000003"])
        #expect(try store.children(limit: 3).map(\.status) == [.offline, .online, .offline])
        #expect(try store.children(limit: 100) == store.allChildren())
        #expect(try store.children(limit: 0).isEmpty)
        // Counted from the index: no temporary B-tree sorting the table at each scrape.
        let plan = try store.read("plan") { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + StateStore.childCountsSQL).map { $0["detail"] as String? ?? "" }
        }
        #expect(plan.contains { $0.contains("child_device_source_status") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }
}
