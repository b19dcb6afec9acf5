import Foundation
import GatewayCore
import Testing

/// The field buses' condition variable: timed waits on the monotonic clock (a wall clock set back
/// cannot stretch them; the daemon-level proof is ClockJumpDrillTests). The waits run on threads
/// of their own, never on the test's concurrency pool.
@Suite struct MonotonicConditionTests {
    /// Runs `body` on a new thread and returns its result.
    func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test func aTimedWaitEndsAfterItsTimeout() async {
        let condition = MonotonicCondition()
        let (signalled, waited) = await onThread { () -> (Bool, Duration) in
            let start = ContinuousClock.now
            condition.lock()
            let signalled = condition.wait(timeout: .milliseconds(150))
            condition.unlock()
            return (signalled, start.duration(to: .now))
        }
        #expect(!signalled)
        #expect(waited >= .milliseconds(150))
        #expect(condition.wait(timeout: .zero) == false)
    }

    @Test func aSignalEndsAWaitEarly() async {
        let condition = MonotonicCondition()
        let flag = Locked(false)
        async let waited = onThread { () -> Duration in
            let start = ContinuousClock.now
            condition.lock()
            while !flag.withLock({ $0 }) {
                if !condition.wait(timeout: .seconds(30)) { break }
            }
            condition.unlock()
            return start.duration(to: .now)
        }
        try? await Task.sleep(for: .milliseconds(100))
        condition.lock()
        flag.withLock { $0 = true }
        condition.signal()
        condition.unlock()
        #expect(await waited < .seconds(20))
    }
}
