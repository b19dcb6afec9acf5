import Foundation
import GatewayCore
import PackageCache
import Store
import Testing
import TestSupport

/// What cannot be had ends in a defined failure with its `$ota` result code: wrong bytes,
/// expired or refused URLs, untrusted TLS, a full disk; and the size bound.
@Suite(.serialized)
struct PackageFailureTests {
    @Test func aWrongSignFailsEveryWaitingRequestWithSevenAndServesNothing() async throws {
        let bytes = packageBytes(300_000, seed: 10)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--delay", "0.3"])
        let state = TemporaryDirectory()
        let (cache, store) = try makeCache(server: server, state: state)
        let wrongSign = sha256Hex(bytes.reversed())
        let outcomes = await withTaskGroup(of: PackageOutcome.self) { group in
            for child in 0..<5 {
                group.addTask {
                    await cache.request(.signed(url: server.url("a.bin", child: child), accessToken: "t\(child)",
                                                sign: wrongSign, fileSize: Int64(bytes.count)))
                }
            }
            return await group.reduce(into: [PackageOutcome]()) { $0.append($1) }
        }
        for outcome in outcomes {
            guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); continue }
            #expect(failure.resultCode == 7)
            #expect(failure.kind == .verificationFailed)
        }
        let identity = PackageIdentity.signed(sign: wrongSign, fileSize: Int64(bytes.count))
        #expect(cache.fragment(identity: identity, index: 0, size: 500) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.file("packages")).isEmpty)
        #expect(try store.package(identity: identity.key)?.state == .failed)
        #expect(server.requests.count == 1)
        await cache.shutdown()
        await server.stop()
    }

    @Test func corruptBytesFailWithSeven() async throws {
        let bytes = packageBytes(100_000, seed: 11)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--corrupt"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); return }
        #expect(failure.resultCode == 7)
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.file("packages")).isEmpty)
        await cache.shutdown()
        await server.stop()
    }

    @Test(arguments: [1, -1])
    func aWrongFileSizeFailsWithSeven(delta: Int) async throws {
        let bytes = packageBytes(100_000, seed: 12)
        let server = try await PackageServer(files: ["a.bin": bytes])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let identity = PackageIdentity.signed(sign: sha256Hex(bytes), fileSize: Int64(bytes.count + delta))
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count + delta)))
        guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); return }
        #expect(failure.resultCode == 7, "\(failure)")
        #expect(cache.fragment(identity: identity, index: 0, size: 500) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.file("packages")).isEmpty)
        await cache.shutdown()
        await server.stop()
    }

    @Test func anExpiredURLFails() async throws {
        let bytes = packageBytes(400_000, seed: 13)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--cut-after", "1000", "--cut-times", "100000"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let started = ContinuousClock.now
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count),
                                                  expires: .seconds(2)))
        guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); return }
        #expect(failure.kind == .urlExpired)
        #expect(failure.resultCode == 6)
        #expect(failure.description.contains("URL expired"))
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(server.requests.count > 1, "retried until it expired")
        await cache.shutdown()
        await server.stop()
    }

    @Test func aRefusedURLMakesWayForTheNextWaitingOne() async throws {
        let bytes = packageBytes(100_000, seed: 14)
        let server = try await PackageServer(files: ["a.bin": bytes],
                                             options: ["--require-token", "--reject-token", "tok-0", "--delay", "0.3"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let first = Task {
            await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: "tok-0",
                                        sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        }
        try await Task.sleep(for: .milliseconds(50))
        let second = await cache.request(.signed(url: server.url("a.bin", child: 1), accessToken: "tok-1",
                                                 sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .ready = await first.value, case .ready = second else { Issue.record("not ready"); return }
        let requests = server.requests
        #expect(requests.map(\.status) == [401, 200], "\(requests)")
        #expect(requests.map(\.token) == ["tok-0", "tok-1"])
        await cache.shutdown()
        await server.stop()
    }

    @Test func whenEveryURLIsRefusedTheRequestsFail() async throws {
        let bytes = packageBytes(10_000, seed: 15)
        let server = try await PackageServer(files: ["a.bin": bytes], options: ["--require-token"])
        let state = TemporaryDirectory()
        let (cache, _) = try makeCache(server: server, state: state)
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: nil,
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); return }
        #expect(failure.resultCode == 255)
        #expect(failure.description.contains("HTTP 401"), "\(failure)")
        await cache.shutdown()
        await server.stop()
    }

    @Test func tlsNeedsTheCAUnlessVerificationIsOff() async throws {
        let bytes = packageBytes(50_000, seed: 16)
        let server = try await PackageServer(files: ["a.bin": bytes])
        let request = PackageRequest.signed(url: server.url("a.bin", child: 0), accessToken: "t",
                                            sign: sha256Hex(bytes), fileSize: Int64(bytes.count))
        let withoutCA = TemporaryDirectory(), verifyOff = TemporaryDirectory()
        do {
            let (cache, _) = try makeCache(server: server, state: withoutCA, caFile: .some(nil))
            let started = ContinuousClock.now
            let outcome = await cache.request(request)
            guard case .failed(let failure) = outcome else { Issue.record("trusted without the CA: \(outcome)"); return }
            print("without the CA: \(failure)")
            #expect(failure.description.contains("TLS"), "\(failure)")
            #expect(ContinuousClock.now - started < .seconds(10), "not retried until the URL expires")
            await cache.shutdown()
        }
        do {
            let (cache, _) = try makeCache(server: server, state: verifyOff, caFile: .some(nil), verifyTLS: false)
            guard case .ready = await cache.request(request) else { Issue.record("verify_tls = false did not download"); return }
            await cache.shutdown()
        }
        await server.stop()
    }

    @Test func evictionKeepsWhatTasksNeed() async throws {
        let packages = (0..<3).map { packageBytes(100_000, seed: 20 + UInt64($0)) }
        let server = try await PackageServer(files: ["p0.bin": packages[0], "p1.bin": packages[1], "p2.bin": packages[2]])
        let state = TemporaryDirectory()
        let (cache, store) = try makeCache(server: server, state: state, maxBytes: 150_000)
        let requests = (0..<3).map { index in
            PackageRequest.signed(url: server.url("p\(index).bin", child: index), accessToken: "t",
                                  sign: sha256Hex(packages[index]), fileSize: 100_000)
        }
        let path = { (index: Int) in state.file("packages/\(sha256Hex(packages[index])).bin") }
        for index in 0..<2 {
            guard case .ready = await cache.request(requests[index]) else { Issue.record("p\(index) not ready"); return }
        }
        // Both needed: kept over the bound.
        #expect(FileManager.default.fileExists(atPath: path(0)) && FileManager.default.fileExists(atPath: path(1)))
        await cache.release(requests[0].identity)
        #expect(!FileManager.default.fileExists(atPath: path(0)))
        #expect(cache.fragment(identity: requests[0].identity, index: 0, size: 100) == nil)
        #expect(try store.package(identity: requests[0].identity.key) == nil)
        guard case .ready = await cache.request(requests[2]) else { Issue.record("p2 not ready"); return }
        #expect(FileManager.default.fileExists(atPath: path(1)) && FileManager.default.fileExists(atPath: path(2)))
        await cache.retain([requests[2].identity])
        #expect(!FileManager.default.fileExists(atPath: path(1)))
        #expect(cache.fragment(identity: requests[2].identity, index: 0, size: 100) == Array(packages[2][0..<100]))
        await cache.shutdown()
        await server.stop()
    }

    @Test func aFullDiskFailsWithAnInternalError() async throws {
        let filesystem: SmallFilesystem
        switch SmallFilesystem.mount(bytes: 512 * 1024) {
        case .success(let mounted): filesystem = mounted
        case .failure(let reason):
            print("skipped: \(reason)")
            return
        }
        let bytes = packageBytes(2 << 20, seed: 30)
        let server = try await PackageServer(files: ["a.bin": bytes])
        let db = TemporaryDirectory()
        let store = try StateStore(directory: db.path)
        let settings = PackageCache.Settings(stateDirectory: filesystem.path, maxBytes: 64 << 20, caFile: server.caFile,
                                             initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(400))
        let cache = try PackageCache(settings: settings, store: store)
        let outcome = await cache.request(.signed(url: server.url("a.bin", child: 0), accessToken: "t",
                                                  sign: sha256Hex(bytes), fileSize: Int64(bytes.count)))
        guard case .failed(let failure) = outcome else { Issue.record("not failed: \(outcome)"); return }
        #expect(failure.kind == .diskFull)
        #expect(failure.resultCode == 255)
        #expect(failure.description.contains("disk full"))
        let files = try FileManager.default.contentsOfDirectory(atPath: (filesystem.path as NSString).appendingPathComponent("packages"))
        #expect(!files.contains { $0.hasSuffix(".bin") }, "no half file is taken as complete")
        await cache.shutdown()
        await server.stop()
    }
}
