import Foundation
import Testing
@testable import GatewayCore

@Suite struct ManualClockTests {
    @Test func sleepersWakeOnlyWhenTimePassesTheirDeadline() async throws {
        let clock = ManualClock()
        let woke = WokeFlag()
        let task = Task {
            try await clock.sleep(until: clock.now.advanced(by: .seconds(4)), tolerance: nil)
            woke.set()
        }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(3))
        try await Task.sleep(for: .milliseconds(20))
        #expect(!woke.value)
        clock.advance(by: .seconds(1))
        try await task.value
        #expect(woke.value)
        #expect(clock.now.offset == .seconds(4))
    }

    @Test func cancellationEndsASleep() async {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(until: clock.now.advanced(by: .seconds(60)), tolerance: nil) }
        while clock.sleeperCount == 0 { await Task.yield() }
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }
}

final class WokeFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}
