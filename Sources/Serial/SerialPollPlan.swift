import GatewayCore

/// Which polled device on one port is due next, and whether each answers; pure, with time
/// passed in. Polls keep their rate (the next is one interval after the last was due, not
/// after it ended) unless the line fell behind, and then they do not bunch up to catch up.
/// An offline device is tried at its health's retry times, so a dead device costs the line
/// one timeout per retry while the others keep their intervals.
struct SerialPollPlan<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    struct Entry: Sendable {
        var device: Int
        var interval: Duration
        var due: Instant
        var health: DeviceHealth<Instant>
    }

    private(set) var entries: [Entry]

    /// `devices`: (index of the device on its port, its poll interval); the first polls are due
    /// at `start`, spread over the first interval so a port with many devices does not start
    /// with a burst.
    init(devices: [(device: Int, interval: Duration)], start: Instant, policy: DeviceHealth<Instant>.Policy) {
        let spread = devices.count > 1 ? devices.count : 1
        entries = devices.enumerated().map { position, device in
            Entry(device: device.device, interval: device.interval,
                  due: start.advanced(by: device.interval / spread * position), health: DeviceHealth(policy: policy))
        }
    }

    /// The device whose poll is due first, and when.
    func next() -> (device: Int, at: Instant)? {
        entries.map { entry in (entry.device, max(entry.due, entry.health.retryAt ?? entry.due)) }
            .min { $0.1 < $1.1 }
    }

    /// A poll of `device` went out at `now`.
    mutating func started(device: Int, at now: Instant) {
        guard let i = index(device) else { return }
        let following = entries[i].due.advanced(by: entries[i].interval)
        entries[i].due = following > now ? following : now.advanced(by: entries[i].interval)
    }

    mutating func answered(device: Int, at now: Instant) -> DeviceHealth<Instant>.Action? {
        guard let i = index(device) else { return nil }
        return entries[i].health.cycleSucceeded(at: now)
    }

    mutating func failed(device: Int, at now: Instant) -> DeviceHealth<Instant>.Action? {
        guard let i = index(device) else { return nil }
        return entries[i].health.cycleFailed(at: now)
    }

    /// The port is gone: every polled device is offline; the actions of those that were not.
    mutating func portLost(at now: Instant) -> [(device: Int, action: DeviceHealth<Instant>.Action)] {
        entries.indices.compactMap { i in
            entries[i].health.linkLost(at: now).map { (entries[i].device, $0) }
        }
    }

    func state(of device: Int) -> FieldHealthState? {
        index(device).map { entries[$0].health.state }
    }

    private func index(_ device: Int) -> Int? { entries.firstIndex { $0.device == device } }
}
