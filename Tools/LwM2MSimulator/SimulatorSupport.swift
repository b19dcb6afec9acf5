import Foundation

public struct SimulatorError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

final class SimulatorLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
