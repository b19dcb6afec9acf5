import Foundation

/// A mutex and a condition variable whose timed waits run on the monotonic clock, for the
/// threads that block (the field buses: libmodbus is synchronous).
///
/// `NSCondition.wait(until:)` waits for a wall-clock instant: when the system's clock is set
/// back while a thread waits (NTP's first sync on a box without a battery-backed clock, a
/// technician), the wait lasts as much longer as the clock went back, hours for a poll due in
/// half a second. Here a wait of 500 ms lasts 500 ms whatever the wall clock does.
public final class MonotonicCondition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits (the lock held) until signalled; may wake spuriously.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits (the lock held) until signalled or `timeout` has passed on the monotonic clock; true
    /// when signalled (or woken spuriously), false when the time ran out.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        guard timeout > .zero else { return false }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let (seconds, attoseconds) = timeout.components
        var nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var wholeSeconds = Int(deadline.tv_sec) + Int(min(seconds, Int64(Int32.max)))
        if nanoseconds >= 1_000_000_000 {
            wholeSeconds += 1
            nanoseconds -= 1_000_000_000
        }
        deadline.tv_sec = wholeSeconds
        deadline.tv_nsec = nanoseconds
        return pthread_cond_timedwait(condition, mutex, &deadline) == 0
    }

    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}
