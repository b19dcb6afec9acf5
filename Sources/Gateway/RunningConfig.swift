import Foundation

/// The configuration the daemon runs on; replaced as a whole by a successful reload.
/// A reload applies the log level at once; the subsystems keep the settings they started with
/// until the next restart.
public final class RunningConfig: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: LoadedConfig
    private var generationNumber = 1

    public init(_ loaded: LoadedConfig) { self.loaded = loaded }

    public var current: LoadedConfig { lock.withLock { loaded } }
    /// 1 at start, +1 per applied reload.
    public var generation: Int { lock.withLock { generationNumber } }

    func replace(with new: LoadedConfig) {
        lock.withLock {
            loaded = new
            generationNumber += 1
        }
    }
}
