/// Settings of the LwM2M/CoAP server; the gateway maps `[lwm2m]` in edgegw.toml onto them.
public struct LwM2MServerSettings: Sendable, Equatable {
    public struct Listener: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// CoAP over DTLS-PSK, the platform's secure port.
    public static let defaultDTLSPort: UInt16 = 5684
    /// Plain CoAP, the platform's non-secure port (off unless configured).
    public static let defaultPlainPort: UInt16 = 5683
    /// libcoap 4.3.1 ignores ClientHellos beyond 100 handshakes in progress; a burst of devices needs more.
    public static let libcoapDefaultMaxHandshakes = 100
    /// The kernel default UDP receive buffer (212 KB) overflows in a registration burst.
    public static let defaultReceiveBufferBytes = 4 << 20
    /// Sockets per listener address and CoAP thread (SO_REUSEPORT). libcoap 4.3.1 scans every
    /// session of a socket for each datagram from a new address (two or three per handshake), so a
    /// storm of n devices costs O(n²) on one socket and O(n²/k) on k.
    public static let defaultSocketsPerListener = 1
    public static let maxSocketsPerListener = 64
    /// CoAP threads, each with its own libcoap context and its own sockets on every listener
    /// address (SO_REUSEPORT). libcoap walks all of a context's sessions after each read batch and
    /// keeps its confirmable messages in one sorted list: both cost O(sessions per context).
    /// Measured with 10,000 devices at once on 2 cores: 1 thread (4 sockets) p99 9.2 s, 4 threads
    /// 3.1 s, 8 threads 2.3 s, 16 threads no better; the threads beyond the cores cost little
    /// (each sleeps in epoll_wait) because the work they split grows with sessions per context.
    public static let defaultCoAPThreads = 8
    public static let maxCoAPThreads = 16
    /// libcoap's default idle-session timeout.
    public static let libcoapDefaultSessionTimeout = 300
    /// The platform's CoAP back-off for downlink (spec lwm2m-coap §5.6): 10 s, factor 1.5, 3 retransmissions.
    public static let platformAckTimeout = 10.0
    public static let platformAckRandomFactor = 1.5
    public static let platformMaxRetransmit = 3

    /// DTLS-PSK listeners. `::` is dual-stack (IPv4-mapped addresses included).
    public var dtlsListeners: [Listener]
    /// Plain CoAP listeners; empty (off) by default because plain CoAP has no authentication.
    public var plainListeners: [Listener]
    /// `coap_context_set_max_handshake_sessions`.
    public var maxHandshakesInProgress: Int
    /// What `maxHandshakesInProgress` is unless `[limits]` says otherwise.
    public static let defaultMaxHandshakesInProgress = 4096
    /// SO_RCVBUF asked for each listener socket (the kernel caps it at net.core.rmem_max unless privileged).
    public var receiveBufferBytes: Int
    /// Sockets sharing each listener's address, per CoAP thread (1 with one thread = libcoap's own
    /// socket, no SO_REUSEPORT).
    public var socketsPerListener: Int
    /// CoAP threads (libcoap contexts) sharing the listeners and one registration table.
    public var coapThreads: Int
    /// Seconds an idle session is kept (`coap_context_set_session_timeout`); size it to the devices' report interval.
    public var sessionIdleTimeout: Int
    /// Most idle server sessions kept (0 = no limit).
    public var maxIdleSessions: Int
    /// Retransmission of our confirmable downlink writes.
    public var ackTimeout: Double
    /// ACK timeout of the Observe sent after a Register: a lost Observe must be repeated well inside
    /// the modules' 4 s (513) budget, not after the downlink's 10 s.
    public var observeAckTimeout: Double
    public var ackRandomFactor: Double
    public var maxRetransmit: Int
    /// Largest CoAP payload accepted from a device (uplink) or sent to it.
    public var maxPayloadBytes: Int
    /// Lifetime when a Register carries no `lt`.
    public var defaultLifetime: Int
    /// Accept endpoints that are not in the device list (plain CoAP only) under this product.
    public var autoProvisionProductId: String?
    /// Content-Format of downlink writes (42 = application/octet-stream).
    public var downlinkContentFormat: UInt16
    /// CoAP method for downlink writes: POST (the platform's "Execute") or PUT (LwM2M Write).
    public var downlinkMethod: DownlinkMethod
    /// libcoap's log level (syslog numbers: 3 error, 4 warning, 6 info, 7 debug). Process-wide.
    public var libcoapLogLevel: Int32

    public enum DownlinkMethod: String, Sendable, Equatable, CaseIterable {
        case post = "POST"
        case put = "PUT"
    }

    public init(dtlsListeners: [Listener] = [Listener(host: "::", port: defaultDTLSPort)],
                plainListeners: [Listener] = [],
                maxHandshakesInProgress: Int = LwM2MServerSettings.defaultMaxHandshakesInProgress,
                receiveBufferBytes: Int = defaultReceiveBufferBytes,
                socketsPerListener: Int = defaultSocketsPerListener,
                coapThreads: Int = defaultCoAPThreads,
                sessionIdleTimeout: Int = libcoapDefaultSessionTimeout,
                maxIdleSessions: Int = 0,
                ackTimeout: Double = platformAckTimeout,
                observeAckTimeout: Double = 1.0,
                ackRandomFactor: Double = platformAckRandomFactor,
                maxRetransmit: Int = platformMaxRetransmit,
                maxPayloadBytes: Int = 1024,
                defaultLifetime: Int = 86_400,
                autoProvisionProductId: String? = nil,
                downlinkContentFormat: UInt16 = 42,
                downlinkMethod: DownlinkMethod = .post,
                libcoapLogLevel: Int32 = 4) {
        self.dtlsListeners = dtlsListeners
        self.plainListeners = plainListeners
        self.maxHandshakesInProgress = maxHandshakesInProgress
        self.receiveBufferBytes = receiveBufferBytes
        self.socketsPerListener = socketsPerListener
        self.coapThreads = coapThreads
        self.sessionIdleTimeout = sessionIdleTimeout
        self.maxIdleSessions = maxIdleSessions
        self.ackTimeout = ackTimeout
        self.observeAckTimeout = observeAckTimeout
        self.ackRandomFactor = ackRandomFactor
        self.maxRetransmit = maxRetransmit
        self.maxPayloadBytes = maxPayloadBytes
        self.defaultLifetime = defaultLifetime
        self.autoProvisionProductId = autoProvisionProductId
        self.downlinkContentFormat = downlinkContentFormat
        self.downlinkMethod = downlinkMethod
        self.libcoapLogLevel = libcoapLogLevel
    }
}

/// What the server counts; read with `LwM2MServer.counters`.
public struct LwM2MServerCounters: Sendable, Equatable {
    /// DTLS ClientHello records seen at the listeners (peeked before libcoap reads them).
    public var clientHellos = 0
    /// PSK identities we looked up and found (handshake may still fail on a wrong key).
    public var identitiesAccepted = 0
    /// Handshakes refused because the identity is not configured.
    public var unknownIdentities = 0
    public var handshakesCompleted = 0
    /// Sessions that got a key but ended before the handshake finished (wrong key, lost peer).
    public var handshakesFailed = 0
    /// Established sessions dropped because their address sent a new ClientHello (reboot, NAT reuse).
    public var sessionsReplaced = 0
    /// Unfinished handshakes dropped because their address started a new one (a wrong key given up, a reboot).
    public var handshakesRestarted = 0
    /// Blocks of block-wise (Block1) Register and Update requests taken.
    public var blocksReceived = 0
    /// Datagrams longer than libcoap reads (1,472 bytes): answered 4.13 over CoAP, dropped over DTLS.
    public var oversizedDatagrams = 0
    public var registrations = 0
    public var registrationsRefused = 0
    public var updates = 0
    public var deregistrations = 0
    public var expirations = 0
    public var observesSent = 0
    public var notifications = 0
    public var oversizedPayloads = 0
    public var downlinksSent = 0
    public var downlinksFailed = 0
    /// Responses whose token we do not know (answered with RST).
    public var unknownResponses = 0
    public var openSessions = 0
    /// Datagrams handed to libcoap at the listeners.
    public var datagrams = 0
    /// libcoap's walks over every session (timers, idle timeouts): one per read batch, not per datagram.
    public var sessionWalks = 0
    /// Uplinks dropped because the event consumer was `LwM2MServer.defaultMaxQueuedUplinks` behind
    /// (server-wide; status and downlink events are never dropped).
    public var uplinksDropped = 0

    /// The sum over CoAP threads.
    static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.clientHellos += b.clientHellos
        sum.identitiesAccepted += b.identitiesAccepted
        sum.unknownIdentities += b.unknownIdentities
        sum.handshakesCompleted += b.handshakesCompleted
        sum.handshakesFailed += b.handshakesFailed
        sum.sessionsReplaced += b.sessionsReplaced
        sum.handshakesRestarted += b.handshakesRestarted
        sum.blocksReceived += b.blocksReceived
        sum.oversizedDatagrams += b.oversizedDatagrams
        sum.registrations += b.registrations
        sum.registrationsRefused += b.registrationsRefused
        sum.updates += b.updates
        sum.deregistrations += b.deregistrations
        sum.expirations += b.expirations
        sum.observesSent += b.observesSent
        sum.notifications += b.notifications
        sum.oversizedPayloads += b.oversizedPayloads
        sum.downlinksSent += b.downlinksSent
        sum.downlinksFailed += b.downlinksFailed
        sum.unknownResponses += b.unknownResponses
        sum.openSessions += b.openSessions
        sum.datagrams += b.datagrams
        sum.sessionWalks += b.sessionWalks
        sum.uplinksDropped += b.uplinksDropped
        return sum
    }
}
