import Foundation
import GatewayCore
import PackageCache
import Store
import Testing
import TestSupport

/// One download for the whole site, resumed after a cut connection or a restart, against
/// python's http.server over TLS (https_server.py).
@Suite(.serialized)
struct PackageDownloadTests {
    static let size = 1 << 20

    @Test func hundredRequestsForOneIdentityMakeOneDownload() async throws {
        let bytes = packageBytes(Self.size, seed: 1)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--require-token", "--delay", "0.3"])
        let state = TemporaryDirectory()
        let (cache, store) = try makeCache(server: server, state: state)
        let sign = sha256Hex(bytes).uppercased()
        let outcomes = await withTaskGroup(of: PackageOutcome.self) { group in
            for child in 0..<100 {
                group.addTask {
                    await cache.request(.signed(url: server.url("a.bin", child: child), accessToken: "tok-\(child)",
                                                sign: sign, fileSize: Int64(bytes.count)))
                }
            }
            return await group.reduce(into: [PackageOutcome]()) { $0.append($1) }
        }
        let identity = PackageIdentity.signed(sign: sign, fileSize: Int64(bytes.count))
        #expect(outcomes.count == 100)
        for outcome in outcomes {
            guard case .ready(let package) = outcome else { Issue.record("not ready: \(outcome)"); continue }
            #expect(package.sha256 == sha256Hex(bytes))
            #expect(package.path.hasSuffix("/packages/\(sha256Hex(bytes)).bin"))
        }
        let requests = server.requests
        #expect(requests.count == 1, "GETs: \(requests)")
        #expect(requests.first?.range == nil)
        #expect(server.bytesSent == bytes.count)
        // Fragments from the verified copy; the last one short; beyond the end: nil.
        #expect(cache.fragment(identity: identity, index: 0, size: 500) == Array(bytes[0..<500]))
        #expect(cache.fragment(identity: identity, index: 7, size: 117) == Array(bytes[819..<936]))
        let last = (bytes.count - 1) / 500
        #expect(cache.fragment(identity: identity, index: last, size: 500) == Array(bytes[(last * 500)...]))
        #expect(cache.fragment(identity: identity, index: last + 1, size: 500) == nil)
        // The fragment path's speed: 500-byte fragments from the in-memory copy.
        let count = 200_000
        let started = ContinuousClock.now
        var served = 0
        for n in 0..<count { served += cache.fragment(identity: identity, index: n % (last + 1), size: 500)?.count ?? 0 }
        let elapsed = ContinuousClock.now - started
        let rate = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("fragments: \(count) in \(elapsed) (\(Int(rate))/s, \(served) bytes)")
        #expect(rate >= 5_000)
        // A later request is served at once, without a GET.
        let later = await cache.request(.signed(url: server.url("a.bin", child: 101), accessToken: "tok-101",
                                                sign: sign, fileSize: Int64(bytes.count)))
        guard case .ready = later else { Issue.record("later request: \(later)"); return }
        #expect(server.requests.count == 1)
        let record = try store.package(identity: identity.key)
        #expect(record?.state == .verified)
        #expect(record?.sha256 == sha256Hex(bytes))
        await cache.shutdown()
        await server.stop()
    }

    @Test func obsRequestsShareOneDownloadAndAreAddressedByTheirHash() async throws {
        let bytes = packageBytes(200_000, seed: 2)
        let server = try await PackageServer(files: ["obs.bin": bytes], options: ["--delay", "0.3"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let outcomes = await withTaskGroup(of: PackageOutcome.self) { group in
            for child in 0..<10 {
                group.addTask { await cache.request(.obs(url: server.url("obs.bin", child: child), version: "v2.0")) }
            }
            return await group.reduce(into: [PackageOutcome]()) { $0.append($1) }
        }
        for outcome in outcomes {
            guard case .ready(let package) = outcome else { Issue.record("not ready: \(outcome)"); continue }
            #expect(package.sha256 == sha256Hex(bytes))
        }
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.token == nil, "the _v2 forms send no Authorization header")
        await cache.shutdown()
        await server.stop()
    }

    @Test func aCutConnectionResumesWithRange() async throws {
        let bytes = packageBytes(Self.size, seed: 3)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--cut-after", "300000", "--cut-times", "2"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let identity = PackageIdentity.signed(sign: sha256Hex(bytes), fileSize: Int64(bytes.count))
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 1), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .ready = outcome else { Issue.record("not ready: \(outcome)"); return }
        let requests = server.requests
        #expect(requests.count == 3, "\(requests)")
        #expect(requests.filter { $0.range == nil }.count == 1, "one full GET")
        #expect(requests.dropFirst().allSatisfy { $0.range != nil && $0.status == 206 }, "\(requests)")
        let fetched = server.bytesSent
        print("cut twice: \(requests.count) GETs, \(fetched) bytes sent for a \(bytes.count)-byte package")
        #expect(fetched >= bytes.count && fetched <= bytes.count + 2 * 256 * 1024)
        #expect(cache.fragment(identity: identity, index: 2000, size: 500) == Array(bytes[1_000_000..<1_000_500]))
        await cache.shutdown()
        await server.stop()
    }

    @Test func aServerThatIgnoresRangeRestartsFromZero() async throws {
        let bytes = packageBytes(600_000, seed: 4)
        let server = try await PackageServer(files: ["a.bin": bytes],
                                             options: ["--cut-after", "200000", "--ignore-range"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let identity = PackageIdentity.signed(sign: sha256Hex(bytes), fileSize: Int64(bytes.count))
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 1), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .ready(let package) = outcome else { Issue.record("not ready: \(outcome)"); return }
        #expect(package.sha256 == sha256Hex(bytes))
        let requests = server.requests
        #expect(requests.count == 2 && requests[1].range != nil && requests[1].status == 200, "\(requests)")
        #expect(cache.fragment(identity: identity, index: 1199, size: 500) == Array(bytes[599_500...]))
        await cache.shutdown()
        await server.stop()
    }

    @Test func aRestartResumesFromThePartialFileAndAVerifiedPackageIsUsedAtOnce() async throws {
        let bytes = packageBytes(Self.size, seed: 5)
        let server = try await PackageServer(files: ["a.bin": bytes],
                                             options: ["--stall-after", "600000", "--stall-seconds", "60"])
        let state = TemporaryDirectory()
        let request = PackageRequest.signed(url: server.url("a.bin", child: 1), accessToken: "t",
                                            sign: sha256Hex(bytes), fileSize: Int64(bytes.count))
        let partial = state.file("packages/\(request.identity.key).part")
        var (cache, store) = try makeCache(server: server, state: state, readTimeout: .seconds(60))
        let first = Task { [cache] in await cache.request(request) }
        let stalled = await Eventually.wait(timeout: .seconds(20)) { [store] in
            (try? store.package(identity: request.identity.key))?.bytes ?? 0 >= 256 * 1024
        }
        #expect(stalled)
        await cache.shutdown()
        guard case .failed = await first.value else { Issue.record("the first cache finished"); return }
        let kept = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0
        #expect(kept >= 256 * 1024)

        (cache, store) = try makeCache(server: server, state: state)
        guard case .ready = await cache.request(request) else { Issue.record("not ready after restart"); return }
        let requests = server.requests
        #expect(requests.count == 2, "\(requests)")
        #expect(requests.last?.range == "bytes=\(kept)-")
        let fetched = server.bytesSent
        print("restart: \(requests.count) GETs, \(fetched) bytes sent for a \(bytes.count)-byte package (\(kept) kept)")
        #expect(fetched <= bytes.count + 600_000 - kept)
        await cache.shutdown()

        // A third start: the verified package is served without a GET.
        (cache, store) = try makeCache(server: server, state: state)
        #expect(cache.fragment(identity: request.identity, index: 0, size: 500) == Array(bytes[0..<500]))
        guard case .ready = await cache.request(request) else { Issue.record("not ready on the third start"); return }
        #expect(server.requests.count == 2)
        await cache.shutdown()
        await server.stop()
    }
}
