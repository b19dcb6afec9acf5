@testable import LwM2M
import Testing

/// Requests in flight, grouped by peer: a session's end must take exactly its own.
@Suite struct PendingRequestsTests {
    typealias Key = PendingRequests<String>.Key

    @Test func removingAPeerTakesOnlyItsOwnRequests() {
        var pending = PendingRequests<String>()
        pending[Key(peer: 1, token: 10)] = "observe 1"
        pending[Key(peer: 1, token: 11)] = "downlink 1"
        pending[Key(peer: 2, token: 10)] = "observe 2"
        let removed = pending.removeAll(peer: 1).sorted { $0.key.token < $1.key.token }
        #expect(removed.map(\.value) == ["observe 1", "downlink 1"])
        #expect(removed.map(\.key) == [Key(peer: 1, token: 10), Key(peer: 1, token: 11)])
        #expect(pending[Key(peer: 1, token: 10)] == nil)
        #expect(pending[Key(peer: 2, token: 10)] == "observe 2")
        #expect(pending.removeAll(peer: 1).isEmpty)
    }

    @Test func settingNilAndRemoveValueForgetOneRequest() {
        var pending = PendingRequests<String>()
        pending[Key(peer: 3, token: 1)] = "a"
        pending[Key(peer: 3, token: 2)] = "b"
        pending[Key(peer: 3, token: 1)] = nil
        #expect(pending.removeValue(forKey: Key(peer: 3, token: 2)) == "b")
        #expect(pending.removeValue(forKey: Key(peer: 3, token: 2)) == nil)
        #expect(pending.removeAll(peer: 3).isEmpty)
    }
}
