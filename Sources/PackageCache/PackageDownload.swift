import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Store

/// The download of one identity: try the waiting requests' URLs in turn, resume the partial
/// file with `Range`, back off between failed attempts until the URLs expire, verify, publish.
extension PackageCache {
    enum Attempt {
        case complete
        /// Worth trying again with the same URL after a pause.
        case retry(String)
        /// This URL will not work (401, 403, 404, TLS): try the next one.
        case refused(String)
    }

    func run(_ key: String) async {
        var backoff = settings.initialBackoff
        while !closed, let job = jobs[key] {
            let now = clock.now
            let (expired, usable) = (job.sources.filter { $0.deadline <= now }, job.sources.filter { $0.deadline > now })
            if !expired.isEmpty {
                jobs[key]?.sources = usable
                logger.warning("package cache: \(expired.count) URL(s) for \(key) expired")
            }
            guard let source = usable.first else {
                let failure = job.lastRefusal.map { PackageFailure(.refused, "no URL left for the package: \($0)") }
                    ?? PackageFailure(.urlExpired, "URL expired before the package was complete")
                fail(key, job.identity, failure)
                return
            }
            let before = files.size(of: files.partialPath(job.identity))
            let attempt: Attempt
            do { attempt = try await self.attempt(job.identity, source) } catch {
                if closed { return }
                fail(key, job.identity, error)
                return
            }
            if closed { return }
            switch attempt {
            case .complete:
                complete(key, job.identity)
                return
            case .refused(let reason):
                logger.warning("package cache: \(key): URL given up: \(reason)")
                jobs[key]?.lastRefusal = reason
                jobs[key]?.sources.removeAll { $0.url == source.url && $0.token == source.token }
            case .retry(let reason):
                let after = files.size(of: files.partialPath(job.identity))
                if after > before { backoff = settings.initialBackoff }
                let wait = min(backoff, clock.now.duration(to: source.deadline))
                logger.info("package cache: \(key): \(reason); \(after) bytes so far, retrying in \(wait)")
                try? await clock.sleep(for: max(wait, .zero))
                backoff = min(backoff * 2, settings.maxBackoff)
            }
        }
    }

    /// One GET, resumed from the partial file's end. Throws only what ends the download
    /// (verification, disk full).
    func attempt(_ identity: PackageIdentity, _ source: Source) async throws(PackageFailure) -> Attempt {
        let partialPath = files.partialPath(identity)
        var offset = files.size(of: partialPath)
        if let expected = identity.expectedSize {
            if offset == expected { return .complete }
            if offset > expected { files.remove(partialPath); offset = 0 }
        }
        var request = HTTPClientRequest(url: source.url)
        request.method = .GET
        if let token = source.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let remaining = clock.now.duration(to: source.deadline)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(max(remaining.nanoseconds, 1)))
        } catch {
            return Self.classify(error)
        }
        if let expected = identity.expectedSize, let total = Self.totalSize(response), total != expected {
            files.remove(partialPath)
            throw PackageFailure(.verificationFailed, "the server's package has \(total) bytes, file_size says \(expected)")
        }
        let file: PartialFile
        switch response.status.code {
        case 206 where offset > 0 && Self.rangeStart(response.headers) == offset:
            file = try PartialFile(path: partialPath, truncate: false)
        case 200, 206:
            // The whole package (a server that ignores Range, or an unexpected range): from 0.
            if offset > 0 { logger.info("package cache: \(identity): the server sent the whole package, starting again") }
            file = try PartialFile(path: partialPath, truncate: true)
        case 416 where identity.expectedSize == nil && Self.totalSize(response) == offset:
            return .complete
        case 416:
            files.remove(partialPath)
            return .retry("HTTP 416 for a range from \(offset); starting again")
        case 401, 403, 404, 410:
            return .refused("HTTP \(response.status.code) from \(Self.withoutQuery(source.url))")
        default:
            return .retry("HTTP \(response.status.code)")
        }
        var unsynced: Int64 = 0
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { bytes throws(PackageFailure) in try file.append(bytes) }
                unsynced += Int64(buffer.readableBytes)
                if let expected = identity.expectedSize, file.size > expected {
                    files.remove(partialPath)
                    throw PackageFailure(.verificationFailed, "package is larger than file_size \(expected)")
                }
                jobs[identity.key]?.bytes = file.size
                if unsynced >= Self.progressInterval {
                    try file.sync()
                    saveProgress(identity, bytes: file.size)
                    unsynced = 0
                }
            }
        } catch let failure as PackageFailure {
            throw failure
        } catch {
            try file.sync()
            saveProgress(identity, bytes: file.size)
            return Self.classify(error)
        }
        try file.sync()
        saveProgress(identity, bytes: file.size)
        if let expected = identity.expectedSize, file.size < expected {
            return .retry("connection ended at \(file.size) of \(expected) bytes")
        }
        return .complete
    }

    private func complete(_ key: String, _ identity: PackageIdentity) {
        do {
            let (path, sha256, size) = try files.verifyAndPublish(identity)
            let package = ReadyPackage(identity: identity, sha256: sha256, size: size, path: path)
            record(PackageRecord(identity: key, state: .verified, expectedSize: identity.expectedSize,
                                 expectedSHA256: identity.expectedSHA256, bytes: size, path: path, sha256: sha256,
                                 updatedAt: clock.wallTime()))
            publish(package)
            logger.info("package cache: \(key) verified (\(size) bytes, sha256 \(sha256))")
            finish(key, .ready(package))
            evict()
        } catch {
            fail(key, identity, error)
        }
    }

    private func fail(_ key: String, _ identity: PackageIdentity, _ failure: PackageFailure) {
        logger.error("package cache: \(key) failed (result \(failure.resultCode)): \(failure.description)")
        record(PackageRecord(identity: key, state: .failed, expectedSize: identity.expectedSize,
                             expectedSHA256: identity.expectedSHA256,
                             bytes: files.size(of: files.partialPath(identity)), reason: failure.description,
                             updatedAt: clock.wallTime()))
        finish(key, .failed(failure))
    }

    private func saveProgress(_ identity: PackageIdentity, bytes: Int64) {
        record(PackageRecord(identity: identity.key, state: .downloading, expectedSize: identity.expectedSize,
                             expectedSHA256: identity.expectedSHA256, bytes: bytes, updatedAt: clock.wallTime()))
    }

    /// TLS failures will not heal by retrying the same URL; the rest (connection refused,
    /// reset, timeouts) may.
    static func classify(_ error: Error) -> Attempt {
        if let tls = error as? NIOSSLError, case .handshakeFailed = tls {
            return .refused("TLS handshake failed (certificate not trusted?): \(error)")
        }
        if String(describing: error).contains("CERTIFICATE_VERIFY_FAILED") {
            return .refused("TLS handshake failed (certificate not trusted?): \(error)")
        }
        return .retry("\(error)")
    }

    /// The package's whole size as the response says it: `Content-Range`'s total for 206 and
    /// 416, `Content-Length` for 200.
    static func totalSize(_ response: HTTPClientResponse) -> Int64? {
        switch response.status.code {
        case 200:
            return response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        case 206, 416:
            return response.headers.first(name: "Content-Range")?.split(separator: "/").last.flatMap { Int64($0) }
        default:
            return nil
        }
    }

    /// The first byte of a `Content-Range: bytes START-END/TOTAL` header.
    static func rangeStart(_ headers: HTTPHeaders) -> Int64? {
        guard let value = headers.first(name: "Content-Range"), value.hasPrefix("bytes ") else { return nil }
        return value.dropFirst(6).split(separator: "-").first.flatMap { Int64($0) }
    }

    static func withoutQuery(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
