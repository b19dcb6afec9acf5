import Crypto
import Foundation
import Logging
import PackageCache
import Store
import TestSupport

typealias PackageServer = HTTPSPackageServer

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic package bytes.
func packageBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
}

/// A cache on a store and state directory of its own (or given ones, for restarts).
func makeCache(server: PackageServer, state: TemporaryDirectory, caFile: String?? = .none, verifyTLS: Bool = true,
               maxBytes: Int64 = 64 << 20, readTimeout: Duration = .seconds(3)) throws -> (PackageCache, StateStore) {
    let store = try StateStore(directory: state.file("db"))
    let settings = PackageCache.Settings(stateDirectory: state.path, maxBytes: maxBytes,
                                         caFile: caFile ?? server.caFile, verifyTLS: verifyTLS,
                                         initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(400),
                                         connectTimeout: .seconds(3), readTimeout: readTimeout)
    let cache = try PackageCache(settings: settings, store: store, logger: Logger(label: "test.packages"))
    return (cache, store)
}
