import Bootstrap
import CCoAP
import Foundation
import GatewayCore
import Logging

/// What the bootstrap server needs from the gateway: the bootstrap PSK of an identity (on the
/// CoAP thread, cheap) and the account to write to a device (may generate and store its key).
public protocol BootstrapProvider: Sendable {
    func bootstrapKey(identity: String) -> [UInt8]?
    /// `identity`: the DTLS PSK identity the device used (nil over plain CoAP); `localHost`: the
    /// address the device reached the gateway on.
    func plan(endpoint: String, identity: String?, localHost: String) -> Result<BootstrapPlan, BootstrapRefusal>
}

/// Why a `POST /bs` is refused (answered 4.03, counted by cause).
public struct BootstrapRefusal: Error, Equatable, Sendable {
    public var failure: BootstrapFailure
    public var reason: String
    public init(_ failure: BootstrapFailure, _ reason: String) {
        self.failure = failure
        self.reason = reason
    }
}

public struct BootstrapServerSettings: Sendable {
    public var dtlsListeners: [LwM2MServerSettings.Listener]
    public var plainListeners: [LwM2MServerSettings.Listener]
    public var requestTimeout: Duration
    public var discover: Bool
    /// DTLS handshakes in progress at once (libcoap's default, 100, drops the ClientHellos of a
    /// site powering up together, and their retransmissions back off for seconds).
    public var maxHandshakesInProgress: Int
    /// SO_RCVBUF asked for each listener socket, as for the LwM2M server's.
    public var receiveBufferBytes: Int

    public init(dtlsListeners: [LwM2MServerSettings.Listener], plainListeners: [LwM2MServerSettings.Listener] = [],
                requestTimeout: Duration = BootstrapSession<GatewayClock>.defaultRequestTimeout, discover: Bool = true,
                maxHandshakesInProgress: Int = LwM2MServerSettings.defaultMaxHandshakesInProgress,
                receiveBufferBytes: Int = LwM2MServerSettings.defaultReceiveBufferBytes) {
        self.dtlsListeners = dtlsListeners
        self.plainListeners = plainListeners
        self.requestTimeout = requestTimeout
        self.discover = discover
        self.maxHandshakesInProgress = maxHandshakesInProgress
        self.receiveBufferBytes = receiveBufferBytes
    }
}

public enum BootstrapServerEvent: Sendable, Equatable {
    case started(endpoint: String)
    case finished(endpoint: String)
    case failed(endpoint: String, BootstrapFailure, String)
    /// The device bootstraps again and again (said once when it starts).
    case loop(endpoint: String, count: Int)
}

public struct BootstrapCounters: Sendable, Equatable {
    public var started = 0
    public var finished = 0
    public var failures: [BootstrapFailure: Int] = [:]
    /// Handshakes refused: no bootstrap key for the identity.
    public var unknownIdentities = 0
    public var loopsDetected = 0
}

/// The LwM2M bootstrap server on `[listeners.bootstrap]` (docs/bootstrap.md): one libcoap context
/// on a thread of its own; each device's sequence is a `BootstrapSession` on the gateway's clock.
public final class BootstrapServer: @unchecked Sendable {
    let engine: BootstrapEngine
    private var thread: Thread?
    public let events: AsyncStream<BootstrapServerEvent>

    public init(settings: BootstrapServerSettings, provider: BootstrapProvider, clock: GatewayClock = .system(),
                logger: Logger = Logger(label: "edgegw.bootstrap")) {
        let (stream, continuation) = AsyncStream<BootstrapServerEvent>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        events = stream
        engine = BootstrapEngine(settings: settings, provider: provider, clock: clock, logger: logger,
                                 emit: { continuation.yield($0) }, finish: { continuation.finish() })
    }

    /// Binds the listeners (throws when it cannot) and starts the CoAP thread.
    public func start() throws {
        try engine.setUp()
        let engine = self.engine
        let thread = Thread { engine.runLoop() }
        thread.name = "edgegw-bootstrap"
        self.thread = thread
        thread.start()
    }

    /// Ends every session in progress (cancelled) and the thread; returns once it has ended.
    public func stop() {
        engine.requestStop()
        while engine.running.withLock({ $0 }) { usleep(1000) }
    }

    /// The device registered with the LwM2M server and was observed: it is not looping (any thread).
    public func settled(endpoint: String) {
        engine.settledEndpoints.withLock { $0.append(endpoint) }
    }

    public var counters: BootstrapCounters { engine.sharedCounters.withLock { $0 } }
    /// Endpoints bootstrapping again and again, with their count in the window.
    public var loops: [String: Int] { engine.sharedLoops.withLock { $0 } }
}
