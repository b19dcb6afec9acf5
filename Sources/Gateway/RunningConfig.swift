import Foundation

/// The configuration the daemon runs on; replaced as a whole by a successful reload.
public final class RunningConfig: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: LoadedConfig
    private var generationNumber = 1
    private var observers: [@Sendable (LoadedConfig) -> Void] = []

    public init(_ loaded: LoadedConfig) { self.loaded = loaded }

    public var current: LoadedConfig { lock.withLock { loaded } }
    /// 1 at start, +1 per applied reload.
    public var generation: Int { lock.withLock { generationNumber } }

    /// Called after every applied reload, with the new configuration.
    public func onReload(_ observer: @escaping @Sendable (LoadedConfig) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    func replace(with new: LoadedConfig) {
        let toCall: [@Sendable (LoadedConfig) -> Void] = lock.withLock {
            loaded = new
            generationNumber += 1
            return observers
        }
        for observer in toCall { observer(new) }
    }
}
