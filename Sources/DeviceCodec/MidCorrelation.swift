import GatewayCore

/// Numbers commands for one device with the 16-bit `mid` the codec writes into them.
/// Mids run 1, 2, … 65535 and wrap to 1; 0 is never used, so a device's zeroed field can
/// never look like an answer.
public struct MidAllocator: Sendable, Equatable {
    public static let range: ClosedRange<UInt16> = 1...UInt16.max

    public private(set) var next: UInt16

    public init(next: UInt16 = MidAllocator.range.lowerBound) {
        self.next = Self.range.contains(next) ? next : Self.range.lowerBound
    }

    /// The next mid that `inUse` does not reject, or nil when every mid is in use.
    public mutating func allocate(skipping inUse: (UInt16) -> Bool = { _ in false }) -> UInt16? {
        for _ in 0..<Self.range.count {
            let candidate = next
            next = candidate == Self.range.upperBound ? Self.range.lowerBound : candidate + 1
            if !inUse(candidate) { return candidate }
        }
        return nil
    }
}

/// A command's final state from the device's decoded response.
public struct CommandResult: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case successful = "SUCCESSFUL"
        case failed = "FAILED"
    }

    public var status: Status
    /// The response's `errcode`, when its message has one.
    public var errcode: Int64?
    /// The response fields, the cloud's `result.resultDetail`.
    public var paras: JSONObject

    public init(status: Status, errcode: Int64?, paras: JSONObject) {
        self.status = status
        self.errcode = errcode
        self.paras = paras
    }
}

/// Matches command responses to the commands sent to one device, by `mid` (spec
/// lwm2m-coap §5.8: a response with the wrong mid must not complete a command). Pure: the
/// caller owns timers and tells it when a command times out or expires.
public struct CommandCorrelator: Sendable, Equatable {
    public struct Pending: Sendable, Equatable {
        public var commandId: String
        public var serviceId: String
        public var command: String

        public init(commandId: String, serviceId: String, command: String) {
            self.commandId = commandId
            self.serviceId = serviceId
            self.command = command
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// The response completes this command.
        case completed(commandId: String, result: CommandResult)
        /// No command waits for this mid (late, duplicate, or a device bug): log it, change nothing.
        case unmatched(mid: UInt16)
        /// A command waits for this mid, but the response is for another command: nothing completes.
        case mismatched(mid: UInt16, waiting: Pending)
    }

    public private(set) var allocator: MidAllocator
    public private(set) var pending: [UInt16: Pending] = [:]

    public init(allocator: MidAllocator = MidAllocator()) {
        self.allocator = allocator
    }

    /// Gives a command its mid and waits for its response; nil when all 65,535 mids wait.
    public mutating func send(commandId: String, serviceId: String, command: String) -> UInt16? {
        // A local allocator, so the check reads `pending` without copying it.
        var allocator = self.allocator
        let next = allocator.allocate(skipping: { pending[$0] != nil })
        self.allocator = allocator
        guard let mid = next else { return nil }
        pending[mid] = Pending(commandId: commandId, serviceId: serviceId, command: command)
        return mid
    }

    /// Applies a decoded response: SUCCESSFUL when it carries no error code, FAILED otherwise.
    public mutating func receive(_ response: DecodedCommandResponse) -> Outcome {
        guard let waiting = pending[response.mid] else { return .unmatched(mid: response.mid) }
        guard waiting.command == response.command, waiting.serviceId == response.serviceId else {
            return .mismatched(mid: response.mid, waiting: waiting)
        }
        pending[response.mid] = nil
        let result = CommandResult(status: response.succeeded ? .successful : .failed,
                                   errcode: response.errcode, paras: response.paras)
        return .completed(commandId: waiting.commandId, result: result)
    }

    /// Waits again for a command sent before a restart with the mid it was sent with (the
    /// store keeps it); new commands skip that mid.
    public mutating func resume(mid: UInt16, commandId: String, serviceId: String, command: String) {
        pending[mid] = Pending(commandId: commandId, serviceId: serviceId, command: command)
    }

    /// Stops waiting (the command timed out, expired or was cancelled); returns what waited.
    @discardableResult
    public mutating func forget(mid: UInt16) -> Pending? {
        pending.removeValue(forKey: mid)
    }
}
