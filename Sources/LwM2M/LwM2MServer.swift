import GatewayCore
import Foundation
import Logging

/// The LwM2M/CoAP server: CoAPS (DTLS-PSK, one key per device) and optional plain CoAP listeners,
/// TUP-style registration with the Observe sent in the same loop turn as the 2.01 reply, uplink
/// notifications and confirmable downlink writes. libcoap runs on one thread of its own.
public final class LwM2MServer: Sendable {
    public let settings: LwM2MServerSettings
    /// Registrations, uplink, downlink results. One consumer.
    public let events: AsyncStream<LwM2MServerEvent>

    private let continuation: AsyncStream<LwM2MServerEvent>.Continuation
    private let sharedCounters = Locked(LwM2MServerCounters())
    private let state = Locked<State>(State())
    private let directory: NBIoTDeviceDirectory
    private let logger: Logger

    private struct State: @unchecked Sendable {
        var engine: CoAPServerEngine?
        var thread: Thread?
        var finished: DispatchSemaphore?
        var receiveBuffers: [Int] = []
    }

    public init(settings: LwM2MServerSettings, directory: NBIoTDeviceDirectory,
                logger: Logger = Logger(label: "edgegw.lwm2m")) {
        self.settings = settings
        self.directory = directory
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: LwM2MServerEvent.self, bufferingPolicy: .unbounded)
    }

    /// Binds the listeners and starts the CoAP thread; throws if a listener cannot be bound.
    public func start() throws {
        let continuation = self.continuation
        let engine = CoAPServerEngine(settings: settings, directory: directory, logger: logger,
                                      counters: sharedCounters, emit: { continuation.yield($0) })
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let startError = Locked<Error?>(nil)
        let box = EngineBox(engine)
        let thread = Thread {
            do {
                try box.engine.setUp()
            } catch {
                startError.withLock { $0 = error }
                ready.signal()
                box.engine.runLoopTearDownOnly()
                finished.signal()
                return
            }
            ready.signal()
            box.engine.runLoop()
            finished.signal()
        }
        thread.name = "edgegw-coap"
        thread.stackSize = 1 << 20
        thread.start()
        ready.wait()
        if let error = startError.withLock({ $0 }) {
            finished.wait()
            throw error
        }
        state.withLock {
            $0.engine = engine
            $0.thread = thread
            $0.finished = finished
            $0.receiveBuffers = engine.grantedReceiveBuffers
        }
    }

    /// Stops the CoAP thread and waits for it; ends `events`.
    public func stop() {
        let (engine, finished) = state.withLock { state -> (CoAPServerEngine?, DispatchSemaphore?) in
            defer { state.engine = nil; state.thread = nil; state.finished = nil }
            return (state.engine, state.finished)
        }
        guard let engine, let finished else { return }
        engine.requestStop()
        finished.wait()
        continuation.finish()
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

    /// Queues a confirmable write to a device's downlink resource; the result comes as `.downlinkResult`.
    public func send(_ downlink: Downlink) {
        guard let engine = state.withLock({ $0.engine }) else {
            continuation.yield(.downlinkResult(tag: downlink.tag, nodeId: downlink.nodeId, result: .notReachable))
            return
        }
        engine.enqueue(.downlink(downlink))
    }

    public var counters: LwM2MServerCounters { sharedCounters.withLock { $0 } }

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
