import Foundation
import GatewayCore

/// How the gateway reaches a bus. Devices with the same transport identity share one bus,
/// one thread and one request queue.
public enum ModbusTransport: Sendable, Equatable {
    case rtu(SerialSettings)
    case tcp(host: String, port: Int)
    /// RTU frames (with CRC) over a TCP connection, as serial-to-Ethernet converters pass them.
    case rtuOverTCP(host: String, port: Int)

    public struct SerialSettings: Sendable, Equatable {
        public enum Parity: String, Sendable, CaseIterable { case none, even, odd }

        public var device: String
        public var baud: Int
        public var parity: Parity
        public var dataBits: Int
        public var stopBits: Int
        /// Switch the port to RS-485 mode (`TIOCSRS485`); ports that cannot are logged and used as they are.
        public var rs485: Bool

        public init(device: String, baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1,
                    rs485: Bool = false) {
            self.device = device
            self.baud = baud
            self.parity = parity
            self.dataBits = dataBits
            self.stopBits = stopBits
            self.rs485 = rs485
        }
    }

    /// The bus this transport is: one serial port, or one TCP host:port (a gateway with many units).
    public var busId: ModbusBusID {
        switch self {
        case .rtu(let serial): ModbusBusID("rtu:\(serial.device)")
        case .tcp(let host, let port): ModbusBusID("tcp:\(host):\(port)")
        case .rtuOverTCP(let host, let port): ModbusBusID("rtu-tcp:\(host):\(port)")
        }
    }
}

/// Names one bus: `rtu:/dev/ttyUSB0`, `tcp:10.0.0.5:502` or `rtu-tcp:10.0.0.6:4001`.
public struct ModbusBusID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Per-bus timing a device file may override; absent values come from `ModbusSettings`.
public struct ModbusBusOverrides: Sendable, Equatable {
    public var interRequestDelay: Duration?
    public var responseTimeout: Duration?
    public init(interRequestDelay: Duration? = nil, responseTimeout: Duration? = nil) {
        self.interRequestDelay = interRequestDelay
        self.responseTimeout = responseTimeout
    }
}

/// A set of points polled together at one interval.
public struct ModbusPollGroup: Sendable, Equatable {
    public var name: String
    public var interval: Duration
    public init(name: String, interval: Duration) {
        self.name = name
        self.interval = interval
    }
}

/// One value in a device's register map, tied to a product property.
public struct ModbusPoint: Sendable, Equatable {
    public var name: String
    public var serviceId: String
    public var property: String
    public var table: ModbusTable
    public var address: Int
    public var type: ModbusDataType
    public var order: ModbusByteOrder
    /// For `bit`: which bit of the register, 0 the least significant.
    public var bit: Int
    /// For `string`: registers the text takes.
    public var length: Int
    /// value = raw × scale + offset; writes invert it.
    public var scale: Double
    public var offset: Double
    public var unit: String?
    /// A change smaller than this is not reported on its own (the periodic full report still carries it).
    public var deadband: Double
    public var writable: Bool
    /// False for a write-only point (a "reset" coil a command writes): never polled nor reported,
    /// and tied to no property.
    public var report: Bool
    /// Index into the device's poll groups.
    public var group: Int
    /// Line in the device file, for messages at run time.
    public var line: Int?

    public init(name: String, serviceId: String, property: String, table: ModbusTable, address: Int,
                type: ModbusDataType, order: ModbusByteOrder = .abcd, bit: Int = 0, length: Int = 1,
                scale: Double = 1, offset: Double = 0, unit: String? = nil, deadband: Double = 0,
                writable: Bool = false, report: Bool = true, group: Int = 0, line: Int? = nil) {
        self.name = name
        self.serviceId = serviceId
        self.property = property
        self.table = table
        self.address = address
        self.type = type
        self.order = order
        self.bit = bit
        self.length = length
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.deadband = deadband
        self.writable = writable
        self.report = report
        self.group = group
        self.line = line
    }

    /// Registers (or bits, in a bit table) the point takes.
    public var count: Int { table.holdsBits ? 1 : type.registerCount(stringLength: length) }

    /// The addresses the point covers.
    public var span: ClosedRange<Int> { address...(address + count - 1) }

    /// No scaling: integers stay integers.
    public var isUnscaled: Bool { scale == 1 && offset == 0 }
}

/// A cloud command mapped onto point writes: each parameter goes to a point, and constants
/// may be written as well (a "reset" coil, say).
public struct ModbusCommandMapping: Sendable, Equatable {
    public var serviceId: String
    public var name: String
    /// Command parameter → point name.
    public var paras: [(para: String, point: String)]
    /// Point name → constant written on every call.
    public var constants: [(point: String, value: JSONValue)]

    public init(serviceId: String, name: String, paras: [(para: String, point: String)],
                constants: [(point: String, value: JSONValue)]) {
        self.serviceId = serviceId
        self.name = name
        self.paras = paras
        self.constants = constants
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.serviceId == b.serviceId && a.name == b.name
            && a.paras.map(\.para) == b.paras.map(\.para) && a.paras.map(\.point) == b.paras.map(\.point)
            && a.constants.map(\.point) == b.constants.map(\.point) && a.constants.map(\.value) == b.constants.map(\.value)
    }
}

/// One Modbus slave as a device file describes it.
public struct ModbusDeviceConfig: Sendable, Equatable {
    public var nodeId: String
    public var productId: String
    public var name: String?
    public var transport: ModbusTransport
    public var busOverrides: ModbusBusOverrides
    public var unitId: Int
    public var pollGroups: [ModbusPollGroup]
    public var points: [ModbusPoint]
    public var commands: [ModbusCommandMapping]
    /// Largest gap of unused registers (bits) the planner reads through to save a request.
    public var maxGapRegisters: Int
    public var maxGapBits: Int
    /// Some slaves answer fewer than 125 registers (2000 bits) per request.
    public var maxReadRegisters: Int
    public var maxReadBits: Int
    /// Some slaves implement only function 16 (15), never 6 (5).
    public var writeMultipleOnly: Bool
    /// The device file, for messages.
    public var file: String
    /// Where keys sit in `file`, for messages about several devices at once.
    public var lines = Lines()

    public struct Lines: Sendable, Equatable {
        public var unitId: Int?
        public var transport: Int?
        public init(unitId: Int? = nil, transport: Int? = nil) {
            self.unitId = unitId
            self.transport = transport
        }
    }

    public init(nodeId: String, productId: String, name: String? = nil, transport: ModbusTransport,
                busOverrides: ModbusBusOverrides = ModbusBusOverrides(), unitId: Int, pollGroups: [ModbusPollGroup],
                points: [ModbusPoint], commands: [ModbusCommandMapping] = [],
                maxGapRegisters: Int = ModbusDeviceConfig.defaultMaxGapRegisters,
                maxGapBits: Int = ModbusDeviceConfig.defaultMaxGapBits,
                maxReadRegisters: Int = ModbusLimits.maxReadRegisters, maxReadBits: Int = ModbusLimits.maxReadBits,
                writeMultipleOnly: Bool = false, file: String = "") {
        self.nodeId = nodeId
        self.productId = productId
        self.name = name
        self.transport = transport
        self.busOverrides = busOverrides
        self.unitId = unitId
        self.pollGroups = pollGroups
        self.points = points
        self.commands = commands
        self.maxGapRegisters = maxGapRegisters
        self.maxGapBits = maxGapBits
        self.maxReadRegisters = maxReadRegisters
        self.maxReadBits = maxReadBits
        self.writeMultipleOnly = writeMultipleOnly
        self.file = file
    }

    public static let defaultMaxGapRegisters = 16
    public static let defaultMaxGapBits = 64
    /// The poll group a device gets when its file names none.
    public static let defaultPollInterval: Duration = .seconds(5)
    /// Shortest poll interval a file may ask for.
    public static let minimumPollInterval: Duration = .milliseconds(10)

    public var busId: ModbusBusID { transport.busId }

    public func point(named name: String) -> ModbusPoint? { points.first { $0.name == name } }

    /// The writable point behind a product property.
    public func point(service: String, property: String) -> ModbusPoint? {
        points.first { $0.report && $0.serviceId == service && $0.property == property }
    }
}
