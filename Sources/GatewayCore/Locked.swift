import Foundation

/// A value behind a lock, for state shared between threads (C library callbacks, bus
/// threads) and async code. Never call into C or out to other subsystems while holding it.
/// (The stdlib's `Synchronization.Mutex` needs macOS 15 on Darwin.)
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
