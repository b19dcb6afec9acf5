/// One device as its bus thread keeps it: its planned reads, what changed since the last
/// answers, and which failures are worth a log line. Its schedule and health live in the bus's
/// `PollSchedule`.
final class ModbusBusDevice {
    let config: ModbusDeviceConfig
    /// The reads of each poll group, by group.
    let plans: [[ModbusReadRequest]]
    var changes: RegisterChangeDetector
    /// Failures of each planned read in a row, by [group][read]: logged when they start and end.
    var readFailures: [[FailureStreak<ModbusError>]]
    /// Points that fail to decode in a row, by point index.
    var decodeFailures: [FailureStreak<PointCodec.DecodeError>]

    init(config: ModbusDeviceConfig) {
        self.config = config
        self.plans = ReadPlanner.plan(device: config)
        self.changes = RegisterChangeDetector(points: config.points.map { ($0.address, $0.count) }, plans: plans)
        self.readFailures = plans.map { $0.map { _ in FailureStreak() } }
        self.decodeFailures = config.points.map { _ in FailureStreak() }
    }
}
