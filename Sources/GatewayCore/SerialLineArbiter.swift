import Foundation

/// Turn-taking on one serial line that more than one master drives: the Modbus master and the
/// serial devices' poller, when a site wires both kinds of device to the same RS-485 port.
///
/// A half-duplex line carries one transaction at a time. Each side takes a turn for a whole
/// transaction (request out, answer in), in the order the turns were asked for (a ticket queue:
/// neither side can starve the other), and a turn begins only after the line has been quiet
/// for the inter-frame delay the taker asks for since the last turn ended.
///
/// Blocking: the field buses run on threads of their own (libmodbus blocks).
public final class SerialLineArbiter: @unchecked Sendable {
    /// The port, as its users name it.
    public let path: String
    private let condition = MonotonicCondition()
    private var nextTicket: UInt64 = 0
    private var serving: UInt64 = 0
    private var held = false
    private var lastRelease: ContinuousClock.Instant?
    /// Turns taken; turns that waited for the other side.
    private var turns = 0
    private var contended = 0

    public init(path: String) { self.path = path }

    /// Waits for the line: the caller's turn in order, then `quietTime` since the last turn
    /// ended. Returns false, without a turn, when `timeout` passes first (the caller is
    /// stopping, or someone holds the line far too long).
    public func acquire(quietTime: Duration = .zero, timeout: Duration) -> Bool {
        // The deadline and the waits are monotonic: a clock set forward or back cannot stretch
        // or cut them.
        let deadline = ContinuousClock.now + timeout
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        if ticket != serving || held { contended += 1 }
        while ticket != serving || held {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                // Give the ticket up: whoever waits behind it must not wait forever.
                abandon(ticket)
                condition.unlock()
                return false
            }
            condition.wait(timeout: left)
        }
        held = true
        serving += 1
        turns += 1
        let since = lastRelease
        condition.unlock()
        if let since {
            let quiet = ContinuousClock.now - since
            if quiet < quietTime { Thread.sleep(forTimeInterval: (quietTime - quiet).seconds) }
        }
        return true
    }

    /// Ends the caller's turn; the line is quiet from now.
    public func release() {
        condition.lock()
        held = false
        lastRelease = ContinuousClock.now
        skipAbandoned()
        condition.broadcast()
        condition.unlock()
    }

    /// Turns taken, and how many of them had to wait for another holder.
    public var counts: (turns: Int, contended: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (turns, contended)
    }

    /// Tickets are served in order; an abandoned one is skipped when its number comes up.
    private var abandoned: Set<UInt64> = []

    private func abandon(_ ticket: UInt64) {
        abandoned.insert(ticket)
        skipAbandoned()
        condition.broadcast()
    }

    private func skipAbandoned() {
        while abandoned.remove(serving) != nil { serving += 1 }
    }
}

/// The arbiters of a daemon, one per serial port, shared by every module that drives a port.
/// Ports are told apart by their resolved path, so `/dev/serial/by-id/…` and the `/dev/ttyUSB0`
/// it points to are one line.
public final class SerialLineArbiters: Sendable {
    private let arbiters = Locked<[String: SerialLineArbiter]>([:])

    public init() {}

    public func arbiter(for path: String) -> SerialLineArbiter {
        let key = Self.canonicalPath(path)
        return arbiters.withLock { table in
            if let existing = table[key] { return existing }
            let created = SerialLineArbiter(path: path)
            table[key] = created
            return created
        }
    }

    /// The path with symbolic links resolved; the path itself when it does not exist (yet).
    public static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
