import AsyncHTTPClient
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOSSL
import Store

/// Downloads each upgrade package once for the whole site and serves fragments from the
/// verified local copy (docs/package-cache.md).
///
/// `request` is called once per child notification (each with its own URL and token); every
/// request for the same `PackageIdentity` joins one download and returns when the package is
/// verified (`.ready`) or cannot be had (`.failed`, with the `$ota` result code). `fragment`
/// is synchronous and lock-protected, for the fragment server's hot path. `shutdown()` must
/// be called before the cache is released (it closes the HTTP client).
public actor PackageCache {
    /// First wait after a failed attempt; doubled after each failure without progress.
    public static let initialBackoff: Duration = .seconds(1)
    /// The longest wait between two attempts.
    public static let maxBackoff: Duration = .seconds(60)
    /// A URL without `expires` is tried this long (the platform's token lifetime, 24 h).
    public static let defaultURLLifetime: Duration = .seconds(86_400)
    /// Packages up to this size are kept in memory once verified.
    public static let defaultInMemoryLimit: Int64 = 8 << 20
    /// The index's byte count is written after this many new bytes.
    static let progressInterval: Int64 = 256 << 10

    public struct Settings: Sendable {
        public var stateDirectory: String
        /// `[upgrade] cache_max_mib`, in bytes.
        public var maxBytes: Int64
        /// `[upgrade] ca_file`: the CA bundle for package servers; nil: the system's roots.
        public var caFile: String?
        /// `[upgrade] verify_tls`; false turns certificate checks off (the caller logs it).
        public var verifyTLS: Bool
        public var inMemoryLimit: Int64
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        public var connectTimeout: Duration
        /// A connection silent this long is broken (and resumed).
        public var readTimeout: Duration

        public init(stateDirectory: String, maxBytes: Int64, caFile: String? = nil, verifyTLS: Bool = true,
                    inMemoryLimit: Int64 = PackageCache.defaultInMemoryLimit,
                    initialBackoff: Duration = PackageCache.initialBackoff,
                    maxBackoff: Duration = PackageCache.maxBackoff,
                    connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(30)) {
            self.stateDirectory = stateDirectory
            self.maxBytes = maxBytes
            self.caFile = caFile
            self.verifyTLS = verifyTLS
            self.inMemoryLimit = inMemoryLimit
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
        }
    }

    struct Source {
        var url: String
        var token: String?
        var deadline: GatewayClock.Instant
    }

    struct Job {
        var identity: PackageIdentity
        var sources: [Source]
        var waiters: [CheckedContinuation<PackageOutcome, Never>] = []
        var bytes: Int64 = 0
        /// Why the last URL was given up, said when no URL is left.
        var lastRefusal: String?
    }

    let settings: Settings
    let store: StateStore
    let clock: GatewayClock
    let logger: Logger
    let files: PackageFiles
    let client: HTTPClient
    nonisolated let ready = ReadyPackages()
    var jobs: [String: Job] = [:]
    var failures: [String: PackageFailure] = [:]
    /// Identities a task still needs: never evicted.
    var needed: Set<String> = []
    var tasks: [String: Task<Void, Never>] = [:]
    var closed = false

    public init(settings: Settings, store: StateStore, clock: GatewayClock = .system(),
                logger: Logger = Logger(label: "edgegw.packages")) throws(PackageFailure) {
        self.settings = settings
        self.store = store
        self.clock = clock
        self.logger = logger
        files = try PackageFiles(stateDirectory: settings.stateDirectory)
        var tls = TLSConfiguration.makeClientConfiguration()
        if !settings.verifyTLS { tls.certificateVerification = .none }
        if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
        let timeout = HTTPClient.Configuration.Timeout(connect: .nanoseconds(settings.connectTimeout.nanoseconds),
                                                       read: .nanoseconds(settings.readTimeout.nanoseconds))
        let configuration = HTTPClient.Configuration(tlsConfiguration: tls,
                                                     redirectConfiguration: .follow(max: 5, allowCycles: false),
                                                     timeout: timeout)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        loadIndex()
    }

    /// Waits until the package is verified or has failed. A package already verified is
    /// returned at once; requests for one identity share one download.
    public func request(_ request: PackageRequest) async -> PackageOutcome {
        let key = request.identity.key
        if closed { return .failed(PackageFailure(.internalError, "package cache is shut down")) }
        needed.insert(key)
        if let package = ready.package(key) { return .ready(package) }
        let start = request.arrivedAt ?? clock.now
        let source = Source(url: request.url, token: request.accessToken,
                            deadline: start.advanced(by: request.expires ?? Self.defaultURLLifetime))
        return await withCheckedContinuation { continuation in
            if jobs[key] != nil {
                jobs[key]?.sources.append(source)
                jobs[key]?.waiters.append(continuation)
                return
            }
            failures[key] = nil
            var job = Job(identity: request.identity, sources: [source])
            job.waiters.append(continuation)
            job.bytes = files.size(of: files.partialPath(request.identity))
            jobs[key] = job
            tasks[key] = Task { await self.run(key) }
        }
    }

    /// Fragment `index` (from 0) of `size` bytes of a verified package; the last fragment is
    /// short; nil beyond the end or when the package is not verified.
    public nonisolated func fragment(identity: PackageIdentity, index: Int, size: Int) -> [UInt8]? {
        ready.fragment(identity.key, index: index, size: size)
    }

    /// Where a package stands (progress reports).
    public func state(of identity: PackageIdentity) -> PackageState {
        let key = identity.key
        if let package = ready.package(key) { return .ready(package) }
        if let job = jobs[key] { return .downloading(bytes: job.bytes, total: identity.expectedSize) }
        if let failure = failures[key] { return .failed(failure) }
        return .unknown
    }

    /// No task needs `identity` any more: it may be evicted.
    public func release(_ identity: PackageIdentity) {
        needed.remove(identity.key)
        evict()
    }

    /// The identities tasks still need (e.g. after a restart, from the stored tasks); every
    /// other package may be evicted.
    public func retain(_ identities: Set<PackageIdentity>) {
        needed = Set(identities.map(\.key))
        evict()
    }

    /// Stops the downloads in flight (their partial files and progress stay for the next
    /// start; their requests fail with an internal error) and closes the HTTP client.
    public func shutdown() async {
        closed = true
        let running = Array(tasks.values)
        for task in running { task.cancel() }
        for key in Array(jobs.keys) {
            finish(key, .failed(PackageFailure(.internalError, "package cache is shut down")))
        }
        // Closing the client ends the responses in flight, so the tasks end promptly.
        do { try await client.shutdown() } catch {
            logger.warning("package cache: closing the HTTP client: \(error)")
        }
        for task in running { await task.value }
    }

    /// A cache dropped without `shutdown()` (a test that ended early) still closes its client,
    /// which async-http-client requires.
    deinit {
        if !closed { client.shutdown { _ in } }
    }

    func finish(_ key: String, _ outcome: PackageOutcome) {
        tasks[key] = nil
        guard let job = jobs.removeValue(forKey: key) else { return }
        if case .failed(let failure) = outcome { failures[key] = failure }
        for waiter in job.waiters { waiter.resume(returning: outcome) }
    }

    func record(_ record: PackageRecord) {
        do { try store.savePackage(record) } catch {
            logger.error("package cache: cannot save the index for \(record.identity): \(error)")
        }
    }

    /// Verified packages whose file is there become ready; the others are forgotten.
    private nonisolated func loadIndex() {
        let records: [PackageRecord]
        do { records = try store.allPackages() } catch {
            logger.error("package cache: cannot read the index: \(error)")
            return
        }
        for record in records where record.state == .verified {
            guard let path = record.path, let sha256 = record.sha256, files.exists(path) else {
                try? store.deletePackage(identity: record.identity)
                continue
            }
            let identity = PackageIdentity(key: record.identity, expectedSHA256: record.expectedSHA256,
                                           expectedSize: record.expectedSize)
            publish(ReadyPackage(identity: identity, sha256: sha256, size: files.size(of: path), path: path))
        }
    }

    /// Makes a verified package servable (in memory when small enough).
    nonisolated func publish(_ package: ReadyPackage) {
        var bytes: [UInt8]?
        if package.size <= settings.inMemoryLimit {
            do { bytes = try files.load(package.path) } catch {
                logger.warning("package cache: \(error); fragments are read from the file")
            }
        }
        ready.insert(package, bytes: bytes)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
