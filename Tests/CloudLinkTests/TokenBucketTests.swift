import GatewayCore
import Testing
@testable import CloudLink

@Suite struct TokenBucketTests {
    typealias Bucket = TokenBucket<ManualClock.Instant>

    @Test func defaultsAreFiftyMessagesAndOneMegabytePerSecond() {
        #expect(Bucket.defaultMessagesPerSecond == 50)
        #expect(Bucket.defaultBytesPerSecond == 1_048_576)
        #expect(OutboxPumpSettings().messagesPerSecond == 50)
        #expect(OutboxPumpSettings().bytesPerSecond == 1_048_576)
    }

    /// Sends as soon as the bucket allows, for `seconds`, and counts what went out.
    private func sent(messagesPerSecond: Int, bytesPerSecond: Int, size: Int, seconds: Int) -> Int {
        let clock = ManualClock()
        var bucket = Bucket(messagesPerSecond: messagesPerSecond, bytesPerSecond: bytesPerSecond, now: clock.now)
        let end = clock.now.advanced(by: .seconds(seconds))
        var count = 0
        while clock.now < end {
            if let wait = bucket.reserve(bytes: size, at: clock.now) {
                clock.advance(by: wait)
            } else {
                count += 1
            }
        }
        return count
    }

    @Test func holdsTheMessageRate() {
        let count = sent(messagesPerSecond: 50, bytesPerSecond: 1_048_576, size: 200, seconds: 60)
        // 60 s at 50/s, plus the 100 ms burst of a full bucket.
        #expect(count >= 3000 && count <= 3006)
    }

    @Test func holdsTheByteRate() {
        // 10 KB messages at 100 KB/s: the byte budget, not the message budget, binds.
        let count = sent(messagesPerSecond: 50, bytesPerSecond: 100_000, size: 10_000, seconds: 60)
        #expect(count >= 600 && count <= 602)
    }

    @Test func refusalConsumesNothingAndNamesTheWait() {
        let clock = ManualClock()
        var bucket = Bucket(messagesPerSecond: 10, bytesPerSecond: 1_000_000, burst: .milliseconds(100), now: clock.now)
        #expect(bucket.reserve(bytes: 1, at: clock.now) == nil)
        let wait = bucket.reserve(bytes: 1, at: clock.now)
        #expect(wait != nil)
        if let wait { #expect(wait > .milliseconds(99) && wait < .milliseconds(101)) }
        clock.advance(by: .milliseconds(50))
        #expect(bucket.reserve(bytes: 1, at: clock.now) != nil)
        clock.advance(by: .milliseconds(51))
        #expect(bucket.reserve(bytes: 1, at: clock.now) == nil)
    }

    @Test func aMessageLargerThanTheByteBurstStillGoes() {
        let clock = ManualClock()
        var bucket = Bucket(messagesPerSecond: 50, bytesPerSecond: 1000, now: clock.now)
        #expect(bucket.reserve(bytes: 5000, at: clock.now) == nil)
        // It left a debt of 4,900 bytes: about 5 s before the next one.
        let wait = bucket.reserve(bytes: 10, at: clock.now)
        #expect((wait ?? .zero) > .seconds(4))
    }
}
