import Foundation
import GatewayCore

/// The platform's two delivery strategies for NB-IoT commands (spec lwm2m-coap §5.1).
public enum CommandDeliveryStrategy: String, Sendable, Equatable, CaseIterable {
    /// Sent now if the device was heard within the awake window; fails at once otherwise.
    case immediate = "immediately"
    /// Queued until the device next reports data or registers (PSM devices); the default. Even a
    /// device heard a moment ago is not written to until its next uplink: that is the platform's
    /// cached mode, and the only moment a sleeping module is known to listen.
    case cached = "delay"
}

/// Command states as the platform names them (spec lwm2m-coap §5.5).
public enum CommandState: String, Sendable, Equatable, CaseIterable {
    case pending = "PENDING"
    case sent = "SENT"
    case delivered = "DELIVERED"
    case successful = "SUCCESSFUL"
    case failed = "FAILED"
    case timeout = "TIMEOUT"
    case expired = "EXPIRED"

    /// States after which the command leaves the queue.
    public var isFinal: Bool { [.successful, .failed, .timeout, .expired].contains(self) }
}

/// One command in a device's queue; also the persisted record.
public struct QueuedCommand: Sendable, Equatable {
    public var command: ChildCommand
    public var strategy: CommandDeliveryStrategy
    /// The codec's correlation field: the device echoes it in its response (spec §5.8).
    public var mid: UInt16
    public var state: CommandState
    public var createdAt: Date
    public var expiresAt: Date
    public var sentAt: Date?
    public var deliveredAt: Date?
    /// False when the product declares no response: the device's ACK ends the command, in
    /// DELIVERED, as on the platform.
    public var expectsResponse: Bool
    /// A cached command waits for a report or registration that comes after it was queued (or
    /// after a failed delivery). Not persisted: after a restart every cached command waits.
    public var waitsForUplink: Bool

    public var requestId: String { command.requestId }
    public var nodeId: String { command.nodeId }

    public init(command: ChildCommand, strategy: CommandDeliveryStrategy, mid: UInt16, state: CommandState,
                createdAt: Date, expiresAt: Date, sentAt: Date? = nil, deliveredAt: Date? = nil, expectsResponse: Bool = true,
                waitsForUplink: Bool = false) {
        self.command = command
        self.strategy = strategy
        self.mid = mid
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.sentAt = sentAt
        self.deliveredAt = deliveredAt
        self.expectsResponse = expectsResponse
        self.waitsForUplink = waitsForUplink
    }
}

/// Where queued commands survive a restart. The Store implements it; the queue only asks for
/// `save` on every state change and `remove` once a command is final.
public protocol CommandQueueStore: Sendable {
    func save(_ command: QueuedCommand) async throws
    func remove(requestId: String) async throws
    func loadAll() async throws -> [QueuedCommand]
}

/// One device's command queue as a pure state machine: commands are delivered in order, one at a
/// time (the next only after the previous is final), when the device is reachable. Time is passed
/// in (`now`), so the 24 h expiry and the response wait are tested to the second. Its instants are
/// wall-clock `Date`s (the service's `GatewayClock.wallTime()`): a command's times are stored with
/// it and must mean the same after a restart; its windows are `Duration`s.
public struct CommandQueue: Sendable, Equatable {
    /// The platform's default expiry for cached commands (UG §4.5.2; the FAQs say 48 h: configurable).
    public static let defaultExpiry: Duration = .seconds(24 * 3600)
    /// How long a device counts as reachable after it reported or registered (PSM devices listen
    /// only briefly after an uplink).
    public static let defaultAwakeWindow: Duration = .seconds(20)
    /// How long a DELIVERED command waits for the device's result before the queue moves on.
    public static let defaultResultWait: Duration = .seconds(180)
    /// Most commands queued per device; more are refused (bounded memory).
    public static let maxQueuedPerDevice = 100

    public enum Action: Sendable, Equatable {
        /// Encode this command with the codec (with its `mid`) and write it to the device.
        case send(QueuedCommand)
        /// Persist the command (new or changed state).
        case save(QueuedCommand)
        case remove(requestId: String)
        /// The command reached a final state (or DELIVERED without a result in time): tell the cloud.
        case finished(QueuedCommand, outcome: DownlinkOutcome)
    }

    public let nodeId: String
    public var expiry: Duration
    public var awakeWindow: Duration
    public var resultWait: Duration
    public private(set) var entries: [QueuedCommand] = []
    public private(set) var awakeUntil: Date?
    private var lastMid: UInt16 = 0

    public init(nodeId: String, expiry: Duration = defaultExpiry, awakeWindow: Duration = defaultAwakeWindow,
                resultWait: Duration = defaultResultWait) {
        self.nodeId = nodeId
        self.expiry = expiry
        self.awakeWindow = awakeWindow
        self.resultWait = resultWait
    }

    /// Rebuilds a queue from persisted commands. A SENT command was never acknowledged: send it again.
    public init(nodeId: String, restoring commands: [QueuedCommand], expiry: Duration = defaultExpiry,
                awakeWindow: Duration = defaultAwakeWindow, resultWait: Duration = defaultResultWait) {
        self.init(nodeId: nodeId, expiry: expiry, awakeWindow: awakeWindow, resultWait: resultWait)
        entries = commands.filter { !$0.state.isFinal }.sorted { $0.createdAt < $1.createdAt }.map {
            var command = $0
            if command.state == .sent { command.state = .pending }
            command.waitsForUplink = command.state == .pending && command.strategy == .cached
            return command
        }
        lastMid = entries.map(\.mid).max() ?? 0
    }

    public func isReachable(at now: Date) -> Bool { awakeUntil.map { now < $0 } ?? false }
    public var inFlight: QueuedCommand? { entries.first { $0.state == .sent || $0.state == .delivered } }

    /// The earliest time `tick` has something to do.
    public var nextDeadline: Date? {
        let expiries = entries.filter { $0.state == .pending }.map(\.expiresAt)
        let waits = entries.filter { $0.state == .delivered }.compactMap { $0.deliveredAt?.addingTimeInterval(resultWait.seconds) }
        return (expiries + waits).min()
    }

    /// A new command from the cloud. `expiresIn` overrides the queue's default expiry.
    public mutating func submit(_ command: ChildCommand, strategy: CommandDeliveryStrategy, expiresIn: Duration? = nil,
                                expectsResponse: Bool = true, at now: Date) -> [Action] {
        lastMid = lastMid == UInt16.max ? 1 : lastMid + 1
        var entry = QueuedCommand(command: command, strategy: strategy, mid: lastMid, state: .pending, createdAt: now,
                                  expiresAt: now.addingTimeInterval((expiresIn ?? expiry).seconds), expectsResponse: expectsResponse,
                                  waitsForUplink: strategy == .cached)
        if strategy == .immediate && !isReachable(at: now) {
            // Immediate delivery never enters PENDING: the device is not listening now.
            entry.state = .failed
            return [.finished(entry, outcome: .failure(.deviceUnreachable, "device \(nodeId) is not reachable now (immediate delivery)"))]
        }
        guard entries.count < Self.maxQueuedPerDevice else {
            entry.state = .failed
            return [.finished(entry, outcome: .failure(.rejected, "queue of \(nodeId) is full (\(Self.maxQueuedPerDevice) commands)"))]
        }
        entries.append(entry)
        return [.save(entry)] + sendNextIfIdle(at: now)
    }

    /// The device reported data or registered: it is listening for a while, and every cached
    /// command queued before now may go, one after the other.
    public mutating func deviceReachable(at now: Date) -> [Action] {
        awakeUntil = now.addingTimeInterval(awakeWindow.seconds)
        for index in entries.indices where entries[index].state == .pending { entries[index].waitsForUplink = false }
        return expireOverdue(at: now) + sendNextIfIdle(at: now)
    }

    /// The device went away (deregistered, lifetime expired): nothing is sent until it is back.
    public mutating func deviceUnreachable() { awakeUntil = nil }

    /// The CoAP ACK for the command with this `mid` arrived.
    public mutating func acknowledged(mid: UInt16, at now: Date) -> [Action] {
        guard let index = entries.firstIndex(where: { $0.mid == mid && $0.state == .sent }) else { return [] }
        entries[index].state = .delivered
        entries[index].deliveredAt = now
        if !entries[index].expectsResponse {
            return finish(index, .delivered, DownlinkOutcome(resultCode: 0, resultDesc: "DELIVERED (the product declares no response)"), at: now)
        }
        return [.save(entries[index])]
    }

    /// The write was not delivered: no ACK after retransmissions (TIMEOUT), or no session (back to
    /// PENDING for a cached command, FAILED for an immediate one).
    public mutating func deliveryFailed(mid: UInt16, timedOut: Bool, at now: Date) -> [Action] {
        guard let index = entries.firstIndex(where: { $0.mid == mid && $0.state == .sent }) else { return [] }
        if timedOut {
            awakeUntil = nil
            return finish(index, .timeout, .failure(.timeout, "no ACK from \(nodeId) after CoAP retransmissions"), at: now)
        }
        if entries[index].strategy == .cached {
            entries[index].state = .pending
            entries[index].sentAt = nil
            entries[index].waitsForUplink = true
            awakeUntil = nil
            return [.save(entries[index])]
        }
        return finish(index, .failed, .failure(.deviceUnreachable, "device \(nodeId) is not reachable"), at: now)
    }

    /// The codec could not encode the command: FAILED (spec §5.5, encode error).
    public mutating func encodingFailed(mid: UInt16, reason: String, at now: Date) -> [Action] {
        guard let index = entries.firstIndex(where: { $0.mid == mid && $0.state == .sent }) else { return [] }
        return finish(index, .failed, .failure(.badRequest, "cannot encode the command: \(reason)"), at: now)
    }

    /// The device's decoded result for `mid`. A response with an unknown `mid` changes nothing.
    public mutating func responded(mid: UInt16, success: Bool, paras: JSONObject, at now: Date) -> [Action] {
        guard let index = entries.firstIndex(where: { $0.mid == mid && ($0.state == .sent || $0.state == .delivered) }) else {
            return []
        }
        let outcome = success ? DownlinkOutcome.success(paras, name: entries[index].command.commandName)
            : DownlinkOutcome(resultCode: DownlinkResultCode.deviceError.rawValue, resultDesc: "device reported an error", paras: paras)
        return finish(index, success ? .successful : .failed, outcome, at: now)
    }

    /// Expires PENDING commands past their expiry and gives up waiting for late results.
    public mutating func tick(at now: Date) -> [Action] {
        var actions = expireOverdue(at: now)
        if let index = entries.firstIndex(where: { $0.state == .delivered }),
           let delivered = entries[index].deliveredAt, now >= delivered.addingTimeInterval(resultWait.seconds) {
            // DELIVERED is as far as the platform gets without a result; the queue must not stall on it.
            let entry = entries.remove(at: index)
            actions += [.remove(requestId: entry.requestId),
                        .finished(entry, outcome: DownlinkOutcome(resultCode: DownlinkResultCode.timeout.rawValue,
                                                                  resultDesc: "DELIVERED; no result from the device within \(Int(resultWait.seconds)) s"))]
            actions += sendNextIfIdle(at: now)
        }
        return actions
    }

    private mutating func expireOverdue(at now: Date) -> [Action] {
        var actions: [Action] = []
        while let index = entries.firstIndex(where: { $0.state == .pending && $0.expiresAt <= now }) {
            actions += finish(index, .expired, .failure(.expired, "not delivered before its expiry"), at: now, sendNext: false)
        }
        return actions
    }

    private mutating func finish(_ index: Int, _ state: CommandState, _ outcome: DownlinkOutcome, at now: Date,
                                 sendNext: Bool = true) -> [Action] {
        var entry = entries.remove(at: index)
        entry.state = state
        var actions: [Action] = [.remove(requestId: entry.requestId), .finished(entry, outcome: outcome)]
        if sendNext { actions += sendNextIfIdle(at: now) }
        return actions
    }

    private mutating func sendNextIfIdle(at now: Date) -> [Action] {
        guard inFlight == nil, isReachable(at: now),
              let index = entries.firstIndex(where: { $0.state == .pending && !$0.waitsForUplink }) else { return [] }
        entries[index].state = .sent
        entries[index].sentAt = now
        return [.save(entries[index]), .send(entries[index])]
    }
}
