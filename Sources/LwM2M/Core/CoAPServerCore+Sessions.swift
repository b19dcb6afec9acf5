import Foundation
import GatewayCore

// Sessions, handshakes and the same-address rules.
extension CoAPServerCore {
    /// A session libcoap made (or first showed us): its peer number from now on.
    mutating func sessionOpened(_ session: Session) -> UInt64 {
        let peer = nextPeer
        nextPeer += 1
        sessions[peer] = session
        return peer
    }

    func session(peer: UInt64) -> Session? { sessions[peer] }

    /// A DTLS session began at this address: a new handshake from it is judged against this one.
    mutating func dtlsSessionStarted(peer: UInt64, address: String) {
        dtlsPeerByAddress[address] = peer
    }

    /// A PSK identity looked up: known (its session now counts as a handshake in progress) or not.
    mutating func pskIdentityAccepted(peer: UInt64?) {
        counters.identitiesAccepted += 1
        if let peer { handshaking.insert(peer) }
    }

    mutating func pskIdentityRefused(_ identity: String) -> Action {
        counters.unknownIdentities += 1
        let printable = String(identity.prefix(64).unicodeScalars.map { (0x21...0x7E).contains($0.value) ? Character($0) : "?" })
        return .log(.repeated(.warning, "lwm2m DTLS handshake refused: unknown PSK identity", [
            "identity": printable, "refused_total_this_thread": "\(counters.unknownIdentities)",
        ]))
    }

    /// The session finished its handshake (or a request came on it, which proves it did).
    mutating func sessionEstablished(peer: UInt64) {
        guard handshaking.remove(peer) != nil else { return }
        counters.handshakesCompleted += 1
    }

    /// libcoap deleted the session. `established`: its state when it went.
    mutating func sessionEnded(peer: UInt64, address: String, established: Bool) -> [Action] {
        if established { sessionEstablished(peer: peer) }
        var actions: [Action] = []
        if handshaking.contains(peer) {
            counters.handshakesFailed += 1
            actions.append(.log(.repeated(.warning, "lwm2m DTLS handshake did not complete (wrong key or lost peer)",
                                          ["address": address])))
        }
        forget(peer: peer, address: address)
        return actions
    }

    /// Everything the core holds for a session that ends: its requests, its observations, its
    /// block-wise bodies, its place in the same-address table.
    mutating func forget(peer: UInt64, address: String) {
        sessions[peer] = nil
        handshaking.remove(peer)
        for (key, entry) in pending.removeAll(peer: peer) {
            if case .observe(let nodeId, _) = entry.kind, observeToken[nodeId] == key { observeToken[nodeId] = nil }
        }
        blockwise.removeAll(peer: peer)
        if dtlsPeerByAddress[address] == peer { dtlsPeerByAddress[address] = nil }
    }

    /// libcoap 4.3.1 raises no DTLS_CONNECTED for server sessions, so the adapter looks at the
    /// sessions in handshake; a walk on every datagram would cost O(n) per packet in a storm, so it
    /// looks at most every 50 ms (requests mark their session established at once anyway).
    mutating func handshakeScanDue(at now: Instant) -> Bool {
        guard !handshaking.isEmpty else { return false }
        if let last = lastHandshakeScan, last.duration(to: now) < Self.handshakeScanInterval { return false }
        lastHandshakeScan = now
        return true
    }

    // MARK: - Same-address reconnect

    /// A DTLS ClientHello peeked at a listener before libcoap reads it. Drops the session of its
    /// address if that address starts a new handshake: an established session goes on any
    /// ClientHello (the device rebooted or its NAT mapping was reused; libcoap would hand the
    /// ClientHello to the old DTLS state and ignore it until the idle timeout); one still in
    /// handshake goes on a ClientHello that starts a handshake (no cookie): its peer gave up (a
    /// wrong key, a reboot) or another module behind the same NAT mapping begins, and must be
    /// served now, not after libcoap's 30 s partial-session timeout. `phase` reads libcoap's state
    /// of the old session.
    mutating func clientHelloReceived(from address: String, startsHandshake: Bool,
                                      phase: (Session) -> SessionPhase) -> [Action] {
        counters.clientHellos += 1
        guard let peer = dtlsPeerByAddress[address], let old = sessions[peer] else { return [] }
        let line: CoAPServerLogLine
        switch phase(old) {
        case .established:
            counters.sessionsReplaced += 1
            line = .repeated(.info, "lwm2m new handshake from an address with a session: replacing it", ["address": address])
        case .handshake where startsHandshake:
            counters.handshakesRestarted += 1
            if handshaking.contains(peer) { counters.handshakesFailed += 1 }
            line = .repeated(.info, "lwm2m new handshake from an address whose handshake did not finish: starting over",
                             ["address": address])
        default:
            return []
        }
        dtlsPeerByAddress[address] = nil
        forget(peer: peer, address: address)
        return [.log(line), .dropSession(old, peer: peer)]
    }
}
