/// Settings of the LwM2M side above CoAP: command delivery. (How long the cloud waits for a
/// command's answer is not a setting: it comes with each command as its deadline.)
public struct LwM2MServiceSettings: Sendable, Equatable {
    public var defaultStrategy: CommandDeliveryStrategy
    public var commandExpiry: Duration
    public var awakeWindow: Duration
    public var resultWait: Duration
    /// How often queues and presence are checked.
    public var tickInterval: Duration

    public init(defaultStrategy: CommandDeliveryStrategy = .cached, commandExpiry: Duration = CommandQueue.defaultExpiry,
                awakeWindow: Duration = CommandQueue.defaultAwakeWindow, resultWait: Duration = CommandQueue.defaultResultWait,
                tickInterval: Duration = .seconds(1)) {
        self.defaultStrategy = defaultStrategy
        self.commandExpiry = commandExpiry
        self.awakeWindow = awakeWindow
        self.resultWait = resultWait
        self.tickInterval = tickInterval
    }
}
