import Foundation
import GatewayCore
import Logging

/// The gateway's MQTT link to the cloud: connects, subscribes, reconnects with backoff, and
/// moves PUBLISHes both ways. Run it as a service (`run()` returns when its task is cancelled).
///
/// - `publish` hands one QoS 1 message to the live connection; its PUBACK arrives on
///   `acknowledgements()` with the same receipt.
/// - `incoming` carries every downlink PUBLISH (one consumer).
/// - `stateChanges()` reports `.connected(generation:)` after CONNACK and all SUBACKs, and
///   `.disconnected` when the link drops, so the gateway re-syncs after every connect.
public final class CloudSession: CloudPublishing, Sendable {
    public let settings: CloudSessionSettings
    public let incoming: AsyncStream<CloudMessage>

    private let credentials: @Sendable () throws -> CloudCredentials
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let incomingContinuation: AsyncStream<CloudMessage>.Continuation
    private let states = Broadcast<CloudConnectionState>(replaysLatest: true, initial: .disconnected)
    private let acks = Broadcast<CloudPublishReceipt>()
    private let current = Locked(Current())

    private struct Current {
        var connection: MosquittoConnection?
        var state: CloudConnectionState = .disconnected
        var generation: UInt64 = 0
        var statistics = CloudSessionStatistics()
        var timestampChecked = false
        var outage = OutageLog()
    }

    /// - Parameters:
    ///   - credentials: called before every connection attempt (the ClientId's hour changes).
    ///   - clock: the backoff waits sleep on it (tests pass a `ManualClock`).
    public init(settings: CloudSessionSettings, clock: any Clock<Duration> = ContinuousClock(),
                logger: Logger = Logger(label: "edgegw.cloud"),
                credentials: @escaping @Sendable () throws -> CloudCredentials) {
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: CloudMessage.self,
                                                            bufferingPolicy: .bufferingOldest(max(1, settings.incomingBuffer)))
        incoming = stream
        incomingContinuation = continuation
    }

    public var state: CloudConnectionState { current.withLock { $0.state } }
    public var statistics: CloudSessionStatistics { current.withLock { $0.statistics } }

    public func stateChanges() -> AsyncStream<CloudConnectionState> {
        states.subscribe()
    }

    public func acknowledgements() -> AsyncStream<CloudPublishReceipt> {
        acks.subscribe()
    }

    public func publish(topic: String, payload: [UInt8]) throws(CloudPublishError) -> CloudPublishReceipt {
        let (connection, ready): (MosquittoConnection?, Bool) = current.withLock {
            if case .connected = $0.state { return ($0.connection, true) }
            return ($0.connection, false)
        }
        guard ready, let connection else { throw .notConnected }
        let mid = try connection.publish(topic: topic, payload: payload)
        return CloudPublishReceipt(generation: connection.generation, messageId: mid)
    }

    /// Connects, and reconnects after every loss, until the task is cancelled.
    public func run() async {
        for problem in settings.validate() {
            logger.error("cloud settings: \(problem)")
        }
        await clock.driveSession(self)
        states.finish()
        acks.finish()
        incomingContinuation.finish()
    }

    fileprivate func runLoop<C: Clock<Duration>>(clock: C) async {
        var policy = settings.reconnect
        let start = clock.now
        while !Task.isCancelled {
            let outcome = await attempt(clock: clock, start: start)
            if Task.isCancelled { break }
            let delay = policy.delay(after: outcome, random: Double.random(in: 0..<1))
            log(outcome, delay: delay, at: start.duration(to: clock.now))
            do { try await clock.sleep(for: delay) } catch { break }
        }
    }

    /// One connection attempt, from fresh credentials to the end of the link.
    private func attempt<C: Clock<Duration>>(clock: C, start: C.Instant) async -> ConnectionOutcome {
        let identity: CloudCredentials
        do {
            identity = try credentials()
        } catch {
            logger.error("cloud credentials unavailable: \(error)")
            return .credentialsUnavailable
        }
        let generation: UInt64 = current.withLock {
            $0.generation += 1
            $0.statistics.connectAttempts += 1
            $0.timestampChecked = identity.timestampChecked
            return $0.generation
        }
        let connectedAt = Locked<C.Instant?>(nil)
        let connection: MosquittoConnection
        do {
            connection = try MosquittoConnection(generation: generation, settings: settings, credentials: identity) {
                [weak self] event in
                guard let self else { return }
                var elapsed = Duration.zero
                if case .ready = event {
                    let now = clock.now
                    connectedAt.withLock { $0 = now }
                    elapsed = start.duration(to: now)
                }
                self.handle(event, generation: generation, at: elapsed)
            }
        } catch {
            return .failed(reason: error.description)
        }
        current.withLock { $0.connection = connection }
        logger.info("connecting to \(settings.host):\(settings.port) as \(identity.clientId)")

        let end: MosquittoEnd = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MosquittoEnd, Never>) in
                let name = "edgegw-mqtt-\(generation)"
                let thread = Thread {
                    Self.nameCurrentThread(name)
                    let end = connection.run()
                    let used = Self.currentThreadCPU()
                    self.current.withLock { $0.statistics.linkThreadCPU += used }
                    continuation.resume(returning: end)
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            connection.stop()
        }

        let wasConnected: Bool = current.withLock {
            $0.connection = nil
            let was = $0.state != .disconnected
            $0.state = .disconnected
            return was
        }
        if wasConnected { states.yield(.disconnected) }
        switch end {
        case .refused(let code):
            current.withLock { $0.statistics.refusals += 1 }
            return .refused(code)
        case .failed(let reason):
            return .failed(reason: reason)
        case .closed(let reason, let disconnect):
            current.withLock { $0.statistics.disconnects[disconnect, default: 0] += 1 }
            noteFailure("link lost: \(reason)")
            let since = connectedAt.withLock { $0 }
            let upFor = since.map { $0.duration(to: clock.now) } ?? .zero
            if Task.isCancelled {
                logger.info("cloud session stopped after \(Self.format(upFor)) connected")
            } else {
                logger.warning("cloud link lost after \(Self.format(upFor)): \(reason)")
            }
            return .lost(connectedFor: upFor)
        }
    }

    /// `elapsed`: time since the session started, for `.ready`.
    private func handle(_ event: MosquittoEvent, generation: UInt64, at elapsed: Duration) {
        switch event {
        case .ready:
            let outage = current.withLock {
                $0.state = .connected(generation: generation)
                $0.statistics.connects += 1
                return $0.outage.connected(at: elapsed)
            }
            if let outage {
                logger.info("cloud connected (connection \(generation)) after \(outage.failures) failed attempts over \(Self.format(outage.outage))")
            } else {
                logger.info("cloud connected (connection \(generation))")
            }
            states.yield(.connected(generation: generation))
        case .acknowledged(let mid):
            acks.yield(CloudPublishReceipt(generation: generation, messageId: mid))
        case .message(let message):
            if case .dropped = incomingContinuation.yield(message) {
                current.withLock { $0.statistics.incomingDropped += 1 }
                logger.error("downlink on \(message.topic) dropped: \(settings.incomingBuffer) messages wait for the gateway")
            } else {
                current.withLock { $0.statistics.incoming += 1 }
            }
        case .subscriptionRefused(let topic):
            logger.error("the broker refused the subscription to \(topic)")
        case .log(let level, let text):
            // libmosquitto's own lines: errors and warnings only, the rest is packet tracing.
            if level & 0x0C != 0 { logger.warning("libmosquitto: \(text)") } else { logger.trace("libmosquitto: \(text)") }
        }
    }

    /// One warning per change of state; the same failure again only at debug level (`OutageLog`).
    private func log(_ outcome: ConnectionOutcome, delay: Duration, at elapsed: Duration) {
        let wait = "next attempt in \(Self.format(delay))"
        switch outcome {
        case .refused(let code):
            let timestampChecked = current.withLock {
                $0.outage.otherFailure(at: elapsed)
                return $0.timestampChecked
            }
            logger.error("cloud refused the connection (CONNACK \(code.rawValue)): \(code.diagnosis(timestampChecked: timestampChecked)); \(wait)")
            noteFailure("refused (CONNACK \(code.rawValue)): \(code.diagnosis(timestampChecked: timestampChecked))")
        case .failed(let reason):
            noteFailure(reason)
            switch current.withLock({ $0.outage.failed(reason: reason, at: elapsed) }) {
            case .failure(let repeats):
                let before = repeats > 0 ? " (the previous failure repeated \(repeats) more times)" : ""
                logger.warning("cloud connection failed: \(reason); retrying with backoff, \(wait)\(before)")
            case .reminder(let attempts, let outage):
                logger.warning("cloud still unreachable after \(attempts) attempts over \(Self.format(outage)): \(reason); \(wait)")
            case .repeated(let attempts):
                logger.debug("cloud still unreachable (attempt \(attempts)): \(reason); \(wait)")
            }
        case .lost:
            logger.info("cloud reconnecting; \(wait)")
        case .credentialsUnavailable:
            current.withLock { $0.outage.otherFailure(at: elapsed) }
            logger.error("cannot compute cloud credentials; \(wait)")
        }
    }

    private func noteFailure(_ reason: String) {
        let now = Date()
        current.withLock {
            $0.statistics.lastFailure = reason
            $0.statistics.lastFailureAt = now
        }
    }

    /// Names the OS thread for `top -H` and /proc: Foundation's `Thread.name` does not on Linux,
    /// and `pthread_setname_np` is not visible to Swift there.
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        try? String(name.prefix(15)).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
    }

    /// CPU time the calling thread has used.
    private static func currentThreadCPU() -> Duration {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.1f s", duration.seconds)
    }
}

/// Counts for `edgegw status` and tests.
public struct CloudSessionStatistics: Sendable, Equatable {
    /// CONNECTs attempted (a refusal counts as an attempt).
    public var connectAttempts = 0
    /// Connections that reached CONNACK 0 and all SUBACKs.
    public var connects = 0
    /// CONNACKs with a refusal code.
    public var refusals = 0
    /// Ready connections that ended, by why.
    public var disconnects: [CloudDisconnectReason: Int] = [:]
    /// Downlink PUBLISHes delivered to `incoming`.
    public var incoming = 0
    /// Downlink PUBLISHes dropped because `incoming` was full.
    public var incomingDropped = 0
    /// CPU time used by connection threads that have ended (a busy loop in one shows here).
    public var linkThreadCPU: Duration = .zero
    /// Why the last attempt failed or the link was lost, and when (wall time, for `edgegw status`).
    public var lastFailure: String?
    public var lastFailureAt: Date?

    public init() {}
}

extension Clock where Duration == Swift.Duration {
    /// Calling through a member opens the `any Clock` existential, so the loop is generic over the concrete clock.
    fileprivate func driveSession(_ session: CloudSession) async { await session.runLoop(clock: self) }
}
