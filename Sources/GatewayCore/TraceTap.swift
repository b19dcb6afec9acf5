import Foundation
import Synchronization

/// One frame of a live trace (`edgegw trace`): what a field module sent or received, for one
/// technician chasing one device. Never carries a key: a DTLS device's trace shows CoAP after
/// decryption.
public struct TraceRecord: Sendable, Codable, Equatable {
    /// One named part of the frame, in the order a technician reads it.
    public struct Field: Sendable, Codable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var time: Date
    /// The bus id or the IMEI the trace follows.
    public var target: String
    /// `request`/`response` (Modbus) or `in`/`out` (CoAP, seen from the gateway).
    public var direction: String
    /// The frame's bytes in hex (Modbus: the ADU; CoAP: the message after decryption).
    public var hex: String
    public var roundTripMilliseconds: Double?
    /// `ok`, `timeout`, `crc error`, `exception N (name)`, …
    public var status: String?
    public var fields: [Field]

    public init(time: Date, target: String, direction: String, hex: String, roundTripMilliseconds: Double? = nil,
                status: String? = nil, fields: [Field] = []) {
        self.time = time
        self.target = target
        self.direction = direction
        self.hex = hex
        self.roundTripMilliseconds = roundTripMilliseconds
        self.status = status
        self.fields = fields
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte, no separators.
    public var traceHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Where a field module hands its frames when someone traces them. Off (nobody subscribed) it
/// costs one relaxed atomic load per frame: `isOn`. The records go to each subscriber's bounded
/// queue; what a full queue cannot take is dropped and counted, so a slow reader never slows
/// the bus or the CoAP thread.
public final class TraceTap: Sendable {
    private let subscriberCount = Atomic<Int>(0)
    private let subscribers = Locked<[ObjectIdentifier: TraceSubscription]>([:])

    public init() {}

    /// False while nobody traces anything: the only check on the hot path.
    @inline(__always)
    public var isOn: Bool { subscriberCount.load(ordering: .relaxed) != 0 }

    /// Whether someone traces `target`; ask only when `isOn`.
    public func isTracing(_ target: String) -> Bool {
        subscribers.withLock { $0.values.contains { $0.target == target } }
    }

    /// What is traced now; ask only when `isOn`.
    public func targets() -> Set<String> {
        subscribers.withLock { Set($0.values.map(\.target)) }
    }

    /// Hands a record to every subscriber of its target. Never blocks on a reader.
    public func emit(_ record: TraceRecord) {
        let matching = subscribers.withLock { $0.values.filter { $0.target == record.target } }
        for subscription in matching { subscription.push(record) }
    }

    /// Starts a trace of `target`; `wake` is called (on the emitting thread) when the queue
    /// turns non-empty. Cancel the subscription to stop.
    public func subscribe(target: String, capacity: Int, wake: @escaping @Sendable () -> Void) -> TraceSubscription {
        let subscription = TraceSubscription(tap: self, target: target, capacity: capacity, wake: wake)
        subscribers.withLock { $0[ObjectIdentifier(subscription)] = subscription }
        subscriberCount.add(1, ordering: .relaxed)
        return subscription
    }

    fileprivate func remove(_ subscription: TraceSubscription) {
        let removed = subscribers.withLock { $0.removeValue(forKey: ObjectIdentifier(subscription)) != nil }
        if removed { subscriberCount.subtract(1, ordering: .relaxed) }
    }
}

/// One reader's bounded queue of trace records.
public final class TraceSubscription: Sendable {
    public let target: String
    public let capacity: Int
    private weak let tap: TraceTap?
    private let wake: @Sendable () -> Void
    private let queue = Locked(Queue())

    private struct Queue {
        var records: [TraceRecord] = []
        var dropped = 0
    }

    fileprivate init(tap: TraceTap, target: String, capacity: Int, wake: @escaping @Sendable () -> Void) {
        self.tap = tap
        self.target = target
        self.capacity = max(1, capacity)
        self.wake = wake
    }

    fileprivate func push(_ record: TraceRecord) {
        let wasEmpty: Bool = queue.withLock {
            if $0.records.count >= capacity {
                $0.dropped += 1
                return false
            }
            $0.records.append(record)
            return $0.records.count == 1
        }
        if wasEmpty { wake() }
    }

    /// What arrived since the last call, and how many records a full queue dropped meanwhile.
    public func take() -> (records: [TraceRecord], dropped: Int) {
        queue.withLock { queue in
            defer { queue = Queue() }
            return (queue.records, queue.dropped)
        }
    }

    public func cancel() { tap?.remove(self) }
}
