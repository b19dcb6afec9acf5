import Foundation
import GatewayCore

// Requests the server sends (downlink writes and one-shot GETs; the Observe is in +Registration) and what comes
// back for them: responses, notifications, libcoap's NACKs, and the deadline when nothing does.
extension CoAPServerCore {
    /// A confirmable write to a device's downlink resource. `forwarded`: another thread handed it on
    /// (the device moved); it is not handed on again.
    mutating func downlinkRequested(_ downlink: Downlink, forwarded: Bool, registrations: Locked<Table>) -> [Action] {
        guard downlink.payload.count <= configuration.maxPayloadBytes else {
            return [.emit(downlink.failed(.tooLarge))]
        }
        let registration = registrations.withLock { $0.registration(nodeId: downlink.nodeId) }
        if let registration, Self.shard(ofPeer: registration.peer.rawValue) != configuration.shard, !forwarded {
            // The device moved to another thread's session since the write was routed.
            return [.forward(downlink)]
        }
        guard let registration, sessions[registration.peer.rawValue] != nil else { return downlinkNotSent(downlink) }
        return [.sendDownlink(downlink, path: downlink.path ?? registration.resources.downlink, peer: registration.peer.rawValue)]
    }

    /// The write could not leave (session not established, libcoap refused it).
    mutating func downlinkNotSent(_ downlink: Downlink) -> [Action] {
        counters.downlinksFailed += 1
        return [.emit(downlink.failed(.notReachable))]
    }

    /// `path`: the resource the request went to (the one `.sendDownlink` named).
    mutating func downlinkSent(_ downlink: Downlink, path: String? = nil, peer: UInt64, token: UInt64, at now: Instant) {
        counters.downlinksSent += 1
        let kind: PendingKind = downlink.read ? .read(nodeId: downlink.nodeId, tag: downlink.tag, path: path ?? downlink.path ?? "")
                                              : .downlink(nodeId: downlink.nodeId, tag: downlink.tag)
        track(TokenKey(peer: peer, token: token), kind, timers: configuration.downlinkTimers, sentAt: now)
    }

    /// A response (or notification) on a peer's session with this token and CoAP code. Returns
    /// false when it belongs to nothing we await (libcoap answers it with RST, which cancels a stale
    /// observation). `body` is read only when the payload is used; `wallTime` stamps an uplink.
    /// Actions go into `actions` (the adapter reuses one buffer: this runs once per notification).
    mutating func responseReceived(peer: UInt64, token: UInt64, code: UInt8, body: () -> [UInt8],
                                   registrations: Locked<Table>, at now: Instant, wallTime: Date,
                                   into actions: inout [Action]) -> Bool {
        let key = TokenKey(peer: peer, token: token)
        guard let entry = pending[key] else {
            counters.unknownResponses += 1
            return false
        }
        switch entry.kind {
        case .observe(let nodeId, let registeredAt):
            guard let registration = registrations.withLock({ $0.registration(nodeId: nodeId) }),
                  registration.peer.rawValue == peer else {
                // The registration ended or moved to another session (possibly another thread's):
                // this observation is stale.
                pending[key] = nil
                if observeToken[nodeId] == key { observeToken[nodeId] = nil }
                counters.unknownResponses += 1
                return false
            }
            guard code >> 5 == 2 else {
                pending[key] = nil
                observeToken[nodeId] = nil
                actions.append(.emit(.observeFailed(nodeId: nodeId, reason: "device answered \(code >> 5).\(String(format: "%02d", code & 0x1F))")))
                return true
            }
            if let registeredAt {
                // The first answer to our GET: the device is subscribed, for as long as it stays registered.
                actions.append(.emit(.observing(nodeId: nodeId, latency: registeredAt.duration(to: now))))
                pending[key] = Pending(kind: .observe(nodeId: nodeId, registeredAt: nil), deadline: nil)
            }
            let payload = body()
            guard !payload.isEmpty else { return true }
            guard payload.count <= configuration.maxPayloadBytes else {
                counters.oversizedPayloads += 1
                actions.append(.log(.once(.warning, "lwm2m oversized notification dropped", ["node": nodeId, "bytes": "\(payload.count)"])))
                return true
            }
            counters.notifications += 1
            actions.append(.emit(.uplink(nodeId: nodeId, productId: registration.productId, payload: payload, receivedAt: wallTime)))
        case .downlink(let nodeId, let tag):
            pending[key] = nil
            let result: DownlinkDeliveryResult = code >> 5 == 2 ? .acknowledged(code: code) : .refused(code: code)
            actions.append(.emit(.downlinkResult(tag: tag, nodeId: nodeId, result: result)))
        case .read(let nodeId, let tag, let path):
            pending[key] = nil
            let result: ResourceReadResult = code >> 5 == 2 ? .content(code: code, payload: body()) : .failed(.refused(code: code))
            actions.append(.emit(.resourceRead(tag: tag, nodeId: nodeId, path: path, result: result)))
        }
        return true
    }

    /// libcoap gave up a request: no ACK after its retransmissions (`.timedOut`), an RST (`.reset`),
    /// or the session went (`.notReachable`).
    mutating func requestFailed(peer: UInt64, token: UInt64, result: DownlinkDeliveryResult) -> [Action] {
        requestFailed(TokenKey(peer: peer, token: token), result: result)
    }

    mutating func requestFailed(_ key: TokenKey, result: DownlinkDeliveryResult) -> [Action] {
        guard let entry = pending.removeValue(forKey: key) else { return [] }
        switch entry.kind {
        case .observe(let nodeId, _):
            if observeToken[nodeId] == key { observeToken[nodeId] = nil }
            return [.emit(.observeFailed(nodeId: nodeId, reason: "\(result)"))]
        case .downlink(let nodeId, let tag):
            counters.downlinksFailed += 1
            return [.emit(.downlinkResult(tag: tag, nodeId: nodeId, result: result))]
        case .read(let nodeId, let tag, let path):
            counters.downlinksFailed += 1
            return [.emit(.resourceRead(tag: tag, nodeId: nodeId, path: path, result: .failed(result)))]
        }
    }
}
