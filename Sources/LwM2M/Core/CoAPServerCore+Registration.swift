import Foundation
import GatewayCore

// The registration interface: Register, Update, De-register, lifetimes, and the Observe that
// follows a Register in the same loop turn (the modules' 4 s "513" budget).
extension CoAPServerCore {
    /// A Register whose query and body parsed. `device`: the directory's entry for its endpoint.
    mutating func registerReceived(_ request: RegistrationRequest, device: NBIoTDevice?, transport: Transport, peer: UInt64,
                                   address: String, registrations: Locked<Table>, at now: Instant) -> [Action] {
        let actions = registrations.withLock {
            $0.register(request, device: device, transport: transport, peer: PeerID(peer), address: address, at: now)
        }
        return apply(actions, registrations: registrations)
    }

    /// A Register whose query or body did not parse.
    mutating func registerRefused(_ error: RegistrationRequest.ParseError, address: String) -> [Action] {
        counters.registrationsRefused += 1
        let line = Action.log(.repeated(.warning, "lwm2m register refused", ["reason": "\(error)", "address": address]))
        if case .objectListTooLong = error {
            return [line, .size1(RegistrationRequest.maxObjectListBytes), .reply(.requestTooLarge(error.description))]
        }
        return [line, .reply(.badRequest(error.description))]
    }

    /// An Update (`POST /rd/<id>`) whose query and body parsed, possibly from a new address.
    mutating func updateReceived(registrationId: String, _ request: RegistrationRequest, transport: Transport, peer: UInt64,
                                 address: String, registrations: Locked<Table>, at now: Instant) -> [Action] {
        let actions = registrations.withLock {
            $0.update(registrationId: registrationId, lifetime: request.lifetime, binding: request.binding,
                      objectLinks: request.objectLinks, transport: transport, peer: PeerID(peer), address: address, at: now)
        }
        return apply(actions, registrations: registrations)
    }

    /// A De-register (`DELETE /rd/<id>`).
    mutating func deregisterReceived(registrationId: String, transport: Transport, registrations: Locked<Table>,
                                     at now: Instant) -> [Action] {
        let actions = registrations.withLock { $0.deregister(registrationId: registrationId, transport: transport, at: now) }
        return apply(actions, registrations: registrations)
    }

    /// The table's actions as the core's: replies, events, the Observe queued behind the reply,
    /// and the observations that end with a registration or move away with it.
    mutating func apply(_ tableActions: [Table.Action], registrations: Locked<Table>) -> [Action] {
        var actions: [Action] = []
        for action in tableActions {
            switch action {
            case .reply(let answer):
                actions.append(.reply(answer))
            case .observe:
                afterReply.append(action)
            case .peerReplaced(let old, let nodeId):
                if let key = observeToken[nodeId], key.peer == old.rawValue {
                    pending[key] = nil
                    observeToken[nodeId] = nil
                }
            case .registered(let nodeId, _):
                counters.registrations += 1
                if let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) {
                    actions.append(.emit(.registered(RegistrationInfo(registration))))
                    actions.append(.log(.once(.info, "lwm2m registered", ["node": nodeId, "address": registration.address])))
                }
            case .updated(let nodeId):
                counters.updates += 1
                actions.append(.emit(.updated(nodeId: nodeId)))
            case .offline(let nodeId, let reason):
                if reason == .deregistered { counters.deregistrations += 1 } else { counters.expirations += 1 }
                if let key = observeToken.removeValue(forKey: nodeId) { pending[key] = nil }
                actions.append(.log(.once(.info, "lwm2m offline", ["node": nodeId, "reason": reason.rawValue])))
                actions.append(.emit(.offline(nodeId: nodeId, reason: reason)))
            }
        }
        if tableActions.contains(where: { if case .reply(.forbidden) = $0 { true } else if case .reply(.badRequest) = $0 { true } else { false } }) {
            counters.registrationsRefused += 1
            for case .reply(let answer) in tableActions {
                actions.append(.log(.repeated(.warning, "lwm2m register refused", ["reason": "\(answer)"])))
            }
        }
        return actions
    }

    /// The Observes queued behind the replies of the requests just handled, to send now; an earlier
    /// observation of the same node is dropped.
    mutating func takeObservesAfterReply(registrations: Locked<Table>) -> [Action] {
        guard !afterReply.isEmpty else { return [] }
        let work = afterReply
        afterReply.removeAll(keepingCapacity: true)
        var actions: [Action] = []
        for case .observe(let nodeId, _, let path, let peer) in work {
            guard sessions[peer.rawValue] != nil,
                  let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }) else { continue }
            if let old = observeToken.removeValue(forKey: nodeId) { pending[old] = nil }
            actions.append(.sendObserve(nodeId: nodeId, path: path, peer: peer.rawValue, registeredAt: registration.registeredAt))
        }
        return actions
    }

    /// The Observe GET left with this token: the observation is the node's from now on, and is
    /// given up at its deadline if neither the device nor libcoap has answered.
    mutating func observeSent(nodeId: String, peer: UInt64, token: UInt64, registeredAt: Instant, at now: Instant) {
        let key = TokenKey(peer: peer, token: token)
        track(key, .observe(nodeId: nodeId, registeredAt: registeredAt), timers: configuration.observeTimers, sentAt: now)
        observeToken[nodeId] = key
        counters.observesSent += 1
    }
}
