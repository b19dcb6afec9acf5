import Foundation
import GatewayCore
@testable import LwM2M
import Testing

/// The bound of the server's event stream: only uplinks are dropped, status and results never.
@Suite struct ServerEventQueueTests {
    func uplink(_ byte: UInt8) -> LwM2MServerEvent {
        .uplink(nodeId: "n", productId: "p", payload: [byte], receivedAt: GatewayClock.testEpoch)
    }

    @Test func uplinksBeyondTheBoundAreDroppedAndCountedStatusNever() {
        var queue = ServerEventQueue(maxQueuedUplinks: 2)
        check(queue.push(uplink(1)))
        check(queue.push(.updated(nodeId: "n")))
        check(queue.push(uplink(2)))
        check(!queue.push(uplink(3)))
        // However far behind the consumer is, status events and results go in.
        for _ in 0..<1000 {
            check(queue.push(.offline(nodeId: "n", reason: .lifetimeExpired)))
        }
        check(queue.push(.downlinkResult(tag: 1, nodeId: "n", result: .timedOut)))
        #expect(queue.droppedUplinks == 1)
        #expect(queue.count == 1004)
        // In order; an uplink taken frees a place.
        #expect(queue.pop() == uplink(1))
        check(queue.push(uplink(4)))
        check(!queue.push(uplink(5)))
        #expect(queue.droppedUplinks == 2)
        #expect(queue.pop() == .updated(nodeId: "n"))
        #expect(queue.pop() == uplink(2))
        var rest: [LwM2MServerEvent] = []
        while let event = queue.pop() { rest.append(event) }
        #expect(rest.count == 1002)
        #expect(rest.last == uplink(4))
        #expect(queue.isEmpty && queue.queuedUplinks == 0)
    }

    @Test func withNoRoomForUplinksRegistrationsStillPass() {
        var queue = ServerEventQueue(maxQueuedUplinks: 0)
        check(!queue.push(uplink(1)))
        check(queue.push(.observing(nodeId: "n", latency: .milliseconds(5))))
        check(queue.push(.observeFailed(nodeId: "n", reason: "timedOut")))
        #expect(queue.pop() == .observing(nodeId: "n", latency: .milliseconds(5)))
    }

    @Test func theChannelDeliversInOrderToAWaitingConsumerAndEndsAfterWhatIsQueued() async {
        let channel = LwM2MEventChannel(maxQueuedUplinks: 1)
        let stream = channel.stream()
        let consumer = Task {
            var seen: [LwM2MServerEvent] = []
            for await event in stream { seen.append(event) }
            return seen
        }
        #expect(channel.push(.updated(nodeId: "a")))
        try? await Task.sleep(for: .milliseconds(20))
        #expect(channel.push(.updated(nodeId: "b")))
        #expect(channel.push(uplink(1)))
        // Whether the consumer took the first uplink yet or not, the status event goes in.
        _ = channel.push(uplink(2))
        #expect(channel.push(.offline(nodeId: "a", reason: .deregistered)))
        channel.finish()
        let seen = await consumer.value
        #expect(seen.first == .updated(nodeId: "a"))
        #expect(seen.last == .offline(nodeId: "a", reason: .deregistered))
        #expect(seen.filter { if case .uplink = $0 { true } else { false } }.count + channel.droppedUplinks == 2)
    }

    @Test func aCancelledConsumerEndsItsStream() async {
        let channel = LwM2MEventChannel(maxQueuedUplinks: 1)
        let stream = channel.stream()
        let consumer = Task { for await _ in stream {} ; return true }
        try? await Task.sleep(for: .milliseconds(20))
        consumer.cancel()
        #expect(await consumer.value)
    }
}
