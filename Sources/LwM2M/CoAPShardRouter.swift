import GatewayCore

/// Hands a downlink to the CoAP thread whose session the device registered on (the shard is in
/// the top bits of the registration's peer number); devices not registered go to the first.
final class CoAPShardRouter: @unchecked Sendable {
    private let registrations: Locked<RegistrationTable<OffsetInstant>>
    private let engines = Locked<[CoAPServerEngine]>([])

    init(registrations: Locked<RegistrationTable<OffsetInstant>>) {
        self.registrations = registrations
    }

    /// Set once the shards are bound; emptied on stop (the engines hold this router).
    func install(_ engines: [CoAPServerEngine]) { self.engines.withLock { $0 = engines } }

    /// False when the server is not running.
    @discardableResult
    func send(_ downlink: Downlink, forwarded: Bool) -> Bool {
        let peer = registrations.withLock { $0.registration(nodeId: downlink.nodeId)?.peer.rawValue }
        let engine: CoAPServerEngine? = engines.withLock { engines in
            guard !engines.isEmpty else { return nil }
            let shard = peer.map(CoAPServerEngine.Core.shard(ofPeer:)) ?? 0
            return engines.indices.contains(shard) ? engines[shard] : engines[0]
        }
        guard let engine else { return false }
        engine.enqueue(.downlink(downlink, forwarded: forwarded))
        return true
    }
}
