import Foundation
import GatewayCore
import IoTDA
import PCP

/// The package cache as the upgrade service sees it (the gateway wires `PackageCache` in): it
/// fetches each package once for the whole site, checks its size and SHA-256, and reads fragments.
public protocol PackageSource: Sendable {
    /// Makes the notice's package available for `nodeId`'s task and says when it is (or why it
    /// cannot be). Called once per task, again after a restart; many tasks may wait on one
    /// download at once: the source groups them by package and fetches once.
    func prepare(_ notice: UpgradeNotice, for nodeId: String) async -> PackagePreparation
    /// `size` bytes of the package from `index * size` (the last fragment may be shorter); nil
    /// when the package cannot be read (evicted, disk error).
    func fragment(identity: PackageIdentity, index: Int, size: Int) async -> [UInt8]?
}

/// A package as the cache names it (`sign` + `file_size`, or the `_v2` URL without its query
/// plus the version). Opaque to the upgrade service: it only compares and stores it.
public struct PackageIdentity: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// What `PackageSource.prepare` found.
public enum PackagePreparation: Sendable, Equatable {
    /// Downloaded and verified; `size` bytes.
    case ready(PackageIdentity, size: Int)
    /// Not available: the result the children end with (7 for a package that failed
    /// verification, 6 for a download that timed out, 255 for an unreachable or expired URL or a
    /// full disk) and why, for the report's `description`.
    case failed(PCPResult, description: String)
}

/// Where the upgrade service's reports go: the gateway turns them into `$ota` events for the
/// child (`EventsMessage.upgradeProgressReport` / `.versionReport`) in the outbox.
public protocol UpgradeReporter: Sendable {
    func progress(nodeId: String, _ progress: UpgradeProgress) async
    func versionReport(nodeId: String, _ report: VersionReport) async
}

/// Durable upgrade tasks: one record per child, replaced on every save.
public protocol UpgradeTaskStore: Sendable {
    func save(nodeId: String, _ record: UpgradeTaskRecord) async
    func remove(nodeId: String) async
    func loadAll() async -> [String: UpgradeTaskRecord]
}

/// One child's task as stored (JSON): the notice it came from, the product's PCP settings, the
/// package once known, and the machine's snapshot with the wall time it was taken.
public struct UpgradeTaskRecord: Sendable, Equatable, Codable {
    /// The format of this record; other formats are skipped on load (and logged).
    public var format: Int = 1
    public var notice: StoredNotice
    public var fragmentSize: Int
    public var checkCode: UInt16
    /// Set when the package source said ready.
    public var package: PackageIdentity?
    public var packageSize: Int?
    /// Nil while the package is being prepared (no machine yet).
    public var snapshot: PCPUpgradeSnapshot?
    /// True when the fan-out had let this task start (it keeps its slot after a restart).
    public var permitted: Bool
    /// Wall time of the snapshot: the machine's timers ran on while the gateway was down.
    public var savedAt: Date

    public init(notice: StoredNotice, fragmentSize: Int, checkCode: UInt16, package: PackageIdentity?, packageSize: Int?,
                snapshot: PCPUpgradeSnapshot?, permitted: Bool, savedAt: Date) {
        self.notice = notice
        self.fragmentSize = fragmentSize
        self.checkCode = checkCode
        self.package = package
        self.packageSize = packageSize
        self.snapshot = snapshot
        self.permitted = permitted
        self.savedAt = savedAt
    }
}

/// `UpgradeNotice` as stored (IoTDA's notice is not Codable; its packages are).
public struct StoredNotice: Sendable, Equatable, Codable {
    public var kind: String
    public var platform: UpgradePackage?
    public var obs: UpgradePackageV2?

    public init(_ notice: UpgradeNotice) {
        kind = notice.kind.rawValue
        switch notice.source {
        case .platform(let p): platform = p; obs = nil
        case .obs(let p): platform = nil; obs = p
        }
    }

    /// The notice again, checked as a new one; nil when it no longer passes.
    public var notice: UpgradeNotice? {
        guard let kind = UpgradeKind(rawValue: kind) else { return nil }
        if let platform { return try? UpgradeNotice(kind: kind, package: platform) }
        if let obs { return try? UpgradeNotice(kind: kind, obs: obs) }
        return nil
    }
}

/// A store that keeps tasks in memory (tests, and a gateway without a state directory).
public actor InMemoryUpgradeTaskStore: UpgradeTaskStore {
    public private(set) var records: [String: UpgradeTaskRecord] = [:]
    public private(set) var saves = 0

    public init(_ records: [String: UpgradeTaskRecord] = [:]) { self.records = records }

    public func save(nodeId: String, _ record: UpgradeTaskRecord) { records[nodeId] = record; saves += 1 }
    public func remove(nodeId: String) { records[nodeId] = nil }
    public func loadAll() -> [String: UpgradeTaskRecord] { records }
}
