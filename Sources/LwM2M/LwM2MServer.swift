import GatewayCore
import Foundation
import Logging

/// The LwM2M/CoAP server: CoAPS (DTLS-PSK, one key per device) and optional plain CoAP listeners,
/// TUP-style registration with the Observe sent in the same loop turn as the 2.01 reply, uplink
/// notifications and confirmable downlink writes. libcoap runs on CoAP threads of its own (one by
/// default), each with its own context and sockets, sharing one registration table.
public final class LwM2MServer: Sendable {
    public let settings: LwM2MServerSettings
    /// Registrations, uplink, downlink results. One consumer. Uplinks beyond
    /// `maxQueuedUplinks` waiting are dropped (counted in `counters.uplinksDropped`); nothing else
    /// is (see `ServerEventQueue` for why).
    public let events: AsyncStream<LwM2MServerEvent>
    /// Uplinks the consumer may fall behind by: a 10,000-module storm's round of reports, at most
    /// 16 MiB of payload (1 KiB each).
    public static let defaultMaxQueuedUplinks = 16_384

    private let channel: LwM2MEventChannel
    private let clock: GatewayClock
    /// Where a traced device's CoAP messages go (`edgegw trace nbiot`).
    private let trace: TraceTap?
    /// One per CoAP thread, summed by `counters`.
    private let shardCounters: [Locked<LwM2MServerCounters>]
    private let registrations: Locked<RegistrationTable<OffsetInstant>>
    private let router: CoAPShardRouter
    private let state = Locked<State>(State())
    private let directory: NBIoTDeviceDirectory
    private let logger: Logger
    /// One for every CoAP thread: a flood spread over the threads is still limited once.
    private let logLimiter = LogRateLimiter()

    private struct State: @unchecked Sendable {
        var engines: [CoAPServerEngine] = []
        var finished: [DispatchSemaphore] = []
        var receiveBuffers: [Int] = []
    }

    /// `clock`: the time base of registrations' lifetimes, the Observe's latency and the requests'
    /// deadlines (the daemon's one clock; uplinks are stamped with its wall time).
    public init(settings: LwM2MServerSettings, directory: NBIoTDeviceDirectory,
                logger: Logger = Logger(label: "edgegw.lwm2m"), clock: GatewayClock = .system(),
                maxQueuedUplinks: Int = LwM2MServer.defaultMaxQueuedUplinks, trace: TraceTap? = nil) {
        self.settings = settings
        self.trace = trace
        self.directory = directory
        self.logger = logger
        self.clock = clock
        channel = LwM2MEventChannel(maxQueuedUplinks: maxQueuedUplinks)
        events = channel.stream()
        let threads = min(max(1, settings.coapThreads), LwM2MServerSettings.maxCoAPThreads)
        shardCounters = (0..<threads).map { _ in Locked(LwM2MServerCounters()) }
        registrations = Locked(RegistrationTable(defaultLifetime: settings.defaultLifetime,
                                                 autoProvisionProductId: settings.autoProvisionProductId))
        router = CoAPShardRouter(registrations: registrations)
    }

    /// Binds the listeners and starts the CoAP threads; throws if a listener cannot be bound.
    ///
    /// Every shard binds its sockets before any shard reads: the kernel picks a socket of an
    /// SO_REUSEPORT group by the peer's address and the group's size, so a handshake begun while
    /// the group still grew could land on two sockets.
    public func start() throws {
        let emit = eventSink()
        var engines: [CoAPServerEngine] = []
        var finished: [DispatchSemaphore] = []
        var go: [DispatchSemaphore] = []
        var failure: Error?
        for (shard, counters) in shardCounters.enumerated() {
            let engine = CoAPServerEngine(settings: settings, directory: directory, logger: logger, clock: clock, shard: shard,
                                          registrations: registrations, router: router,
                                          counters: counters, logLimiter: logLimiter, trace: trace, emit: emit)
            let ready = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            let start = DispatchSemaphore(value: 0)
            let startError = Locked<Error?>(nil)
            let box = EngineBox(engine)
            let thread = Thread {
                do {
                    try box.engine.setUp()
                } catch {
                    startError.withLock { $0 = error }
                    ready.signal()
                    box.engine.runLoopTearDownOnly()
                    done.signal()
                    return
                }
                ready.signal()
                start.wait()
                box.engine.runLoop()
                done.signal()
            }
            thread.name = shardCounters.count == 1 ? "edgegw-coap" : "edgegw-coap-\(shard)"
            thread.stackSize = 1 << 20
            thread.start()
            ready.wait()
            if let error = startError.withLock({ $0 }) {
                done.wait()
                failure = error
                break
            }
            engines.append(engine)
            finished.append(done)
            go.append(start)
        }
        if let failure {
            for engine in engines { engine.requestStop() }
            for start in go { start.signal() }
            for done in finished { done.wait() }
            throw failure
        }
        if engines.count > 1 {
            // The shards' threads wait for `go`, so their sockets are only touched here.
            let discarded = engines.reduce(0) { $0 + $1.discardDatagramsQueuedDuringStartUp() }
            if discarded > 0 {
                logger.info("lwm2m dropped datagrams that arrived while the CoAP threads were binding", metadata: ["datagrams": "\(discarded)"])
            }
        }
        router.install(engines)
        state.withLock {
            $0.engines = engines
            $0.finished = finished
            $0.receiveBuffers = engines.flatMap(\.grantedReceiveBuffers)
        }
        for start in go { start.signal() }
    }

    /// Stops the CoAP threads and waits for them; ends `events`.
    public func stop() {
        let (engines, finished) = state.withLock { state -> ([CoAPServerEngine], [DispatchSemaphore]) in
            defer { state.engines = []; state.finished = [] }
            return (state.engines, state.finished)
        }
        guard !engines.isEmpty else { return }
        router.install([])
        for engine in engines { engine.requestStop() }
        for done in finished { done.wait() }
        channel.finish()
    }

    /// Hands an event to the consumer; an uplink dropped by the bound is counted (in the channel)
    /// and warned about, rate-limited across threads.
    private func eventSink() -> @Sendable (LwM2MServerEvent) -> Void {
        let (channel, logger, limiter) = (self.channel, self.logger, self.logLimiter)
        return { event in
            guard !channel.push(event) else { return }
            let message = "lwm2m uplink dropped: the event consumer is behind"
            guard let suppressed = limiter.admit(message, at: ContinuousClock.now) else { return }
            logger.warning("\(message)", metadata: [
                "queued_uplinks_limit": "\(channel.maxQueuedUplinks)", "dropped_total": "\(channel.droppedUplinks)",
                "suppressed": "\(suppressed)",
            ])
        }
    }

    /// Starts, serves until the task is cancelled, then stops.
    public func run() async throws {
        try start()
        await withTaskCancellationHandler {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        } onCancel: {
            self.stop()
        }
        stop()
    }

    /// Queues a confirmable write to a device's downlink resource; the result comes as `.downlinkResult`
    /// (`.resourceRead` for a `read`).
    public func send(_ downlink: Downlink) {
        guard router.send(downlink, forwarded: false) else {
            channel.push(downlink.failed(.notReachable))
            return
        }
    }

    /// Queues a one-shot confirmable GET of a device's resource (e.g. `/4/0/2`); the answer comes
    /// as `.resourceRead` with this tag and path.
    public func read(nodeId: String, path: String, tag: UInt64) {
        send(Downlink(nodeId: nodeId, payload: [], tag: tag, path: path, read: true))
    }

    /// Whether the device has a registration now (its session may still have gone: a write then
    /// ends `.notReachable`).
    public func isRegistered(nodeId: String) -> Bool {
        registrations.withLock { $0.registration(nodeId: nodeId) != nil }
    }

    /// Each CoAP thread's own counters (the load of each shard).
    public var countersByThread: [LwM2MServerCounters] { shardCounters.map { $0.withLock { $0 } } }

    public var counters: LwM2MServerCounters {
        var sum = shardCounters.dropFirst().reduce(shardCounters[0].withLock { $0 }) { sum, shard in sum + shard.withLock { $0 } }
        sum.uplinksDropped = channel.droppedUplinks
        return sum
    }

    /// SO_RCVBUF the kernel granted per listener socket (it reports twice the usable size).
    public var receiveBufferSizes: [Int] { state.withLock { $0.receiveBuffers } }

    /// The kernel's system-wide UDP receive-buffer drops, for the drop counters.
    public static var kernelUDPReceiveBufferErrors: Int? { SocketTools.udpReceiveBufferErrors() }
}

/// Hands the engine to its thread (it is used only there from then on).
private final class EngineBox: @unchecked Sendable {
    let engine: CoAPServerEngine
    init(_ engine: CoAPServerEngine) { self.engine = engine }
}
