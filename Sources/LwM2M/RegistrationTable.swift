/// Which libcoap session a registration lives on, as a number the pure code can hold.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "peer#\(rawValue)" }
}

/// How a request reached us: over DTLS with an authenticated PSK identity, or plain UDP.
public enum Transport: Sendable, Equatable {
    case dtls(identity: String)
    case udp
}

/// Why a device went offline.
public enum OfflineReason: String, Sendable, Equatable {
    case deregistered
    case lifetimeExpired = "lifetime-expired"
}

/// The registrations of all NB-IoT devices (TUP-style LwM2M Register / Update / De-register),
/// as a pure state machine: events in, actions out, time passed in by the caller.
public struct RegistrationTable<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public struct Registration: Sendable, Equatable {
        public var id: String
        public var nodeId: String
        public var productId: String
        public var peer: PeerID
        public var address: String
        public var transport: Transport
        public var lifetime: Int
        public var binding: String?
        /// Where commands are written (and reports come from when observed). Object 19's when the
        /// device announces no data resource: writes then fail with the device's 4.04.
        public var resources: DataResources
        /// The uplink resource observed; nil when the object list announces none.
        public var observedPath: String?
        /// The object list of the last Register or Update that carried one.
        public var objectLinks: [String]
        /// The device list's `uplinkPath` / `downlinkPath`, if set.
        public var configuredResources: DataResources?
        public var registeredAt: Instant
        public var expiresAt: Instant
    }

    /// The CoAP answer to the request that produced the actions.
    public enum Reply: Sendable, Equatable {
        /// 2.01 Created with Location-Path `rd/<id>`.
        case created(registrationId: String)
        case changed
        case deleted
        case badRequest(String)
        case forbidden(String)
        case notFound
        /// 4.13: the object list is longer than `RegistrationRequest.maxObjectListBytes`.
        case requestTooLarge(String)
    }

    public enum Action: Sendable, Equatable {
        case reply(Reply)
        /// Send the Observe GET for the data resource on this peer, right after the reply.
        case observe(nodeId: String, registrationId: String, path: String, peer: PeerID)
        /// A registration moved away from this peer (NAT rebinding, reboot): forget its observation.
        case peerReplaced(old: PeerID, nodeId: String)
        /// A (new or renewed) registration; `renewed` when it replaced one of the same endpoint.
        case registered(nodeId: String, renewed: Bool)
        case updated(nodeId: String)
        case offline(nodeId: String, reason: OfflineReason)
    }

    public let defaultLifetime: Int
    /// Product for endpoints not in the device list, when auto-provisioning is on (plain CoAP only).
    public let autoProvisionProductId: String?

    public private(set) var byNodeId: [String: Registration] = [:]
    private var nodeIdByRegistration: [String: String] = [:]
    private var nextId: UInt64 = 1

    public init(defaultLifetime: Int = 86_400, autoProvisionProductId: String? = nil) {
        self.defaultLifetime = defaultLifetime
        self.autoProvisionProductId = autoProvisionProductId
    }

    public var count: Int { byNodeId.count }
    public func registration(nodeId: String) -> Registration? { byNodeId[nodeId] }
    public func registration(id: String) -> Registration? { nodeIdByRegistration[id].flatMap { byNodeId[$0] } }

    /// The earliest lifetime end, for the caller's timer (kept up to date: the loop asks on every pass).
    public private(set) var nextExpiry: Instant?

    private mutating func noteExpiry(_ instant: Instant) {
        if let current = nextExpiry, current <= instant { return }
        nextExpiry = instant
    }

    private mutating func recomputeNextExpiry() {
        nextExpiry = byNodeId.values.lazy.map(\.expiresAt).min()
    }

    /// A retransmitted Register (same peer, same endpoint, within this window) gets the same answer
    /// and no second Observe.
    public static var retransmissionWindow: Duration { .seconds(30) }

    /// A Register. `device` is the directory's entry for `request.endpoint` (nil if unknown).
    public mutating func register(_ request: RegistrationRequest, device: NBIoTDevice?, transport: Transport,
                                  peer: PeerID, address: String, at now: Instant) -> [Action] {
        guard let endpoint = request.endpoint else { return [.reply(.badRequest("registration without ep"))] }
        let productId: String
        let configured: DataResources?
        if let device {
            if let refusal = Self.refusal(device: device, transport: transport) { return [.reply(.forbidden(refusal))] }
            productId = device.productId
            configured = device.resources
        } else {
            guard let autoProduct = autoProvisionProductId, transport == .udp else {
                return [.reply(.forbidden("endpoint \(endpoint) is not in the device list"))]
            }
            productId = autoProduct
            configured = nil
        }

        if let current = byNodeId[endpoint], current.peer == peer, current.transport == transport,
           current.registeredAt.duration(to: now) < Self.retransmissionWindow, current.lifetime == (request.lifetime ?? defaultLifetime) {
            return [.reply(.created(registrationId: current.id))]
        }
        var actions: [Action] = []
        let wasRegistered = byNodeId[endpoint] != nil
        if let old = byNodeId[endpoint] {
            // The newest registration wins (reboot, NAT rebinding): the old one ends here.
            nodeIdByRegistration[old.id] = nil
            if old.peer != peer { actions.append(.peerReplaced(old: old.peer, nodeId: endpoint)) }
        }
        let id = Self.registrationId(nextId)
        nextId += 1
        let lifetime = request.lifetime ?? defaultLifetime
        let announced = DataResources.announced(in: request.objectLinks, configured: configured)
        let registration = Registration(
            id: id, nodeId: endpoint, productId: productId, peer: peer, address: address, transport: transport,
            lifetime: lifetime, binding: request.binding, resources: announced ?? configured ?? .lwm2m,
            observedPath: announced?.uplink, objectLinks: request.objectLinks, configuredResources: configured,
            registeredAt: now, expiresAt: now.advanced(by: .seconds(lifetime)))
        byNodeId[endpoint] = registration
        nodeIdByRegistration[id] = endpoint
        if wasRegistered { recomputeNextExpiry() } else { noteExpiry(registration.expiresAt) }
        actions.append(.reply(.created(registrationId: id)))
        if let path = registration.observedPath {
            actions.append(.observe(nodeId: endpoint, registrationId: id, path: path, peer: peer))
        }
        actions.append(.registered(nodeId: endpoint, renewed: wasRegistered))
        return actions
    }

    /// An Update (`POST /rd/<id>`), possibly from a new address.
    public mutating func update(registrationId: String, lifetime: Int?, binding: String?, objectLinks: [String],
                                transport: Transport, peer: PeerID, address: String, at now: Instant) -> [Action] {
        guard let nodeId = nodeIdByRegistration[registrationId], var registration = byNodeId[nodeId] else {
            return [.reply(.notFound)]
        }
        guard Self.sameClient(registration.transport, transport) else {
            return [.reply(.forbidden("update for \(nodeId) from another identity"))]
        }
        var actions: [Action] = []
        if let lifetime { registration.lifetime = lifetime }
        if let binding { registration.binding = binding }
        // An Update with an object list may announce (or withdraw) a data resource.
        var resourceChanged = false
        if !objectLinks.isEmpty {
            let announced = DataResources.announced(in: objectLinks, configured: registration.configuredResources)
            resourceChanged = announced?.uplink != registration.observedPath
            registration.objectLinks = objectLinks
            registration.observedPath = announced?.uplink
            if let announced { registration.resources = announced }
        }
        registration.expiresAt = now.advanced(by: .seconds(registration.lifetime))
        let moved = registration.peer != peer
        if moved {
            actions.append(.peerReplaced(old: registration.peer, nodeId: nodeId))
            registration.peer = peer
            registration.address = address
            registration.transport = transport
        }
        byNodeId[nodeId] = registration
        recomputeNextExpiry()
        actions.append(.reply(.changed))
        // A new session has no observation yet: subscribe again on it.
        if moved || resourceChanged, let path = registration.observedPath {
            actions.append(.observe(nodeId: nodeId, registrationId: registrationId, path: path, peer: peer))
        }
        actions.append(.updated(nodeId: nodeId))
        return actions
    }

    /// A De-register (`DELETE /rd/<id>`).
    public mutating func deregister(registrationId: String, transport: Transport, at now: Instant) -> [Action] {
        guard let nodeId = nodeIdByRegistration[registrationId], let registration = byNodeId[nodeId] else {
            return [.reply(.notFound)]
        }
        guard Self.sameClient(registration.transport, transport) else {
            return [.reply(.forbidden("de-register for \(nodeId) from another identity"))]
        }
        byNodeId[nodeId] = nil
        nodeIdByRegistration[registrationId] = nil
        recomputeNextExpiry()
        return [.reply(.deleted),
                .offline(nodeId: nodeId, reason: .deregistered)]
    }

    /// Ends every registration whose lifetime has passed without an Update.
    public mutating func expire(at now: Instant) -> [Action] {
        guard let next = nextExpiry, next <= now else { return [] }
        defer { recomputeNextExpiry() }
        let due = byNodeId.values.filter { $0.expiresAt <= now }.sorted { $0.expiresAt < $1.expiresAt }
        var actions: [Action] = []
        for registration in due {
            byNodeId[registration.nodeId] = nil
            nodeIdByRegistration[registration.id] = nil
            actions.append(.offline(nodeId: registration.nodeId, reason: .lifetimeExpired))
        }
        return actions
    }

    /// Why a configured device may not register over this transport, or nil if it may.
    static func refusal(device: NBIoTDevice, transport: Transport) -> String? {
        switch transport {
        case .dtls(let identity):
            if identity != device.pskIdentity {
                return "PSK identity '\(identity)' is not the identity configured for \(device.nodeId)"
            }
            return nil
        case .udp:
            return device.secure ? "\(device.nodeId) is a secure device and must use DTLS" : nil
        }
    }

    static func sameClient(_ registered: Transport, _ incoming: Transport) -> Bool {
        switch (registered, incoming) {
        case (.dtls(let a), .dtls(let b)): a == b
        case (.udp, .udp): true
        default: false
        }
    }

    static func registrationId(_ number: UInt64) -> String { String(number, radix: 36) }
}
