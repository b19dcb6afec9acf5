/// Requests we sent and await an answer to, keyed by (peer, token) and grouped by peer, so that a
/// session's end drops its entries without a walk over every device's.
struct PendingRequests<Value> {
    struct Key: Hashable {
        var peer: UInt64
        var token: UInt64
    }

    private var byPeer: [UInt64: [UInt64: Value]] = [:]

    subscript(key: Key) -> Value? {
        get { byPeer[key.peer]?[key.token] }
        set {
            if let newValue {
                byPeer[key.peer, default: [:]][key.token] = newValue
            } else {
                _ = removeValue(forKey: key)
            }
        }
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let value = byPeer[key.peer]?.removeValue(forKey: key.token) else { return nil }
        if byPeer[key.peer]?.isEmpty == true { byPeer[key.peer] = nil }
        return value
    }

    /// Removes and returns every entry of one peer.
    mutating func removeAll(peer: UInt64) -> [(key: Key, value: Value)] {
        guard let tokens = byPeer.removeValue(forKey: peer) else { return [] }
        return tokens.map { (Key(peer: peer, token: $0.key), $0.value) }
    }
}
