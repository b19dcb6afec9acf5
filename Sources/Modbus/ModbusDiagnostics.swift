import GatewayCore
import Foundation

/// Request counters of one bus or one device.
public struct ModbusCounters: Sendable, Equatable {
    /// Requests sent (reads and writes).
    public var requests = 0
    /// Requests answered with data (not exceptions).
    public var responses = 0
    public var timeouts = 0
    public var crcErrors = 0
    public var exceptions = 0
    /// Exception responses by their code (Modbus application protocol §7).
    public var exceptionsByCode: [UInt8: Int] = [:]
    /// Short frames, wrong unit id or function, unexpected data.
    public var badResponses = 0
    /// Failed connects, resets, unusable serial port.
    public var connectionErrors = 0
    /// Registers (or bits) read successfully.
    public var itemsRead = 0
    /// When a read last succeeded.
    public var lastGoodRead: Date?

    public init() {}

    mutating func record(_ error: ModbusError) {
        switch error {
        case .exception(let code): exceptions += 1; exceptionsByCode[code, default: 0] += 1
        case .timeout: timeouts += 1
        case .crc: crcErrors += 1
        case .badResponse: badResponses += 1
        case .connection: connectionErrors += 1
        case .stopped: break
        }
    }
}

/// A snapshot of every bus and device, for the admin endpoint and `edgegw status`.
public struct ModbusDiagnostics: Sendable, Equatable {
    public struct Bus: Sendable, Equatable {
        public var id: ModbusBusID
        public var counters: ModbusCounters
        public var trace: Bool
        public var devices: [Device]
    }

    public struct Device: Sendable, Equatable {
        public var nodeId: String
        public var unitId: Int
        public var health: FieldHealthState
        public var counters: ModbusCounters
    }

    /// Value readings replaced by newer ones before they were reported, because the sink was
    /// slower than the buses (status changes are never dropped; see `UplinkQueue`).
    public var droppedValues = 0
    public var buses: [Bus]

    public func device(_ nodeId: String) -> Device? {
        buses.lazy.flatMap(\.devices).first { $0.nodeId == nodeId }
    }

    public func bus(_ id: ModbusBusID) -> Bus? { buses.first { $0.id == id } }
}
