/// What the upgrade service has done, for `edgegw status` and the logs. Task counts are of now;
/// the rest count up from the daemon's start.
public struct UpgradeCounters: Sendable, Equatable, CustomStringConvertible {
    /// Tasks waiting for their package (download and verification).
    public var preparing = 0
    /// Tasks with their package, not holding a download slot (waiting for the device, querying its
    /// version, waiting to retry).
    public var waitingForDevice = 0
    /// Devices that want to start and wait for a slot (global, cell or unknown-cell cap).
    public var waitingForSlot = 0
    /// Devices holding a slot: notified, downloading, installing.
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    /// Notices answered with "task conflict" (another version was in progress for the child).
    public var conflicts = 0
    public var fragmentsServed = 0
    public var bytesServed = 0
    /// Fragment requests answered later because the site's fragments/s budget was spent.
    public var fragmentsDelayed = 0
    /// Device requests answered with 0x80 (no task) or for another version.
    public var rejects = 0
    /// PCP frames the codec could not read.
    public var decodeFailures = 0
    /// Fragments the package source could not read (left unanswered; the device asks again).
    public var fragmentReadFailures = 0
    /// Frames the field side could not deliver (the device was not reachable).
    public var sendFailures = 0

    public init() {}

    public var description: String {
        "upgrades: \(preparing) preparing, \(waitingForDevice) waiting for the device, \(waitingForSlot) waiting for a slot, "
            + "\(running) running, \(succeeded) succeeded, \(failed) failed, \(conflicts) conflicts; "
            + "\(fragmentsServed) fragments (\(bytesServed) bytes) served, \(fragmentsDelayed) delayed by the budget, "
            + "\(rejects) rejected requests, \(decodeFailures) undecodable frames, \(fragmentReadFailures) unreadable fragments, "
            + "\(sendFailures) undelivered frames"
    }
}
