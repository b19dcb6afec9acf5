/// The four Modbus data tables.
public enum ModbusTable: String, Sendable, CaseIterable, Hashable {
    case coil
    case discrete
    case holding
    case input

    /// Coils and discrete inputs hold bits; holding and input registers hold 16-bit words.
    public var holdsBits: Bool { self == .coil || self == .discrete }

    /// Only coils and holding registers can be written.
    public var isWritable: Bool { self == .coil || self == .holding }

    /// The function code that reads this table.
    public var readFunction: UInt8 {
        switch self {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }

    /// Largest read of this table in one request.
    public var maxReadCount: Int { holdsBits ? ModbusLimits.maxReadBits : ModbusLimits.maxReadRegisters }
}

/// How a point's value is laid out in its table.
public enum ModbusDataType: String, Sendable, CaseIterable, Hashable {
    case bool
    case int16
    case uint16
    case int32
    case uint32
    case int64
    case uint64
    case float32
    case float64
    /// One bit (`bit = 0…15`, 0 the least significant) of a register.
    case bit
    /// ASCII text in `length` registers, two characters per register.
    case string

    /// Registers the type takes (strings: their `length`); bools take one bit of a bit table.
    public func registerCount(stringLength: Int) -> Int {
        switch self {
        case .bool, .bit, .int16, .uint16: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        case .string: stringLength
        }
    }

    public var isInteger: Bool {
        switch self {
        case .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    public var isFloat: Bool { self == .float32 || self == .float64 }
    public var isNumeric: Bool { isInteger || isFloat }
}

/// Byte and word order of a multi-register value, named by where the bytes of the big-endian
/// value `A B C D` land: `ABCD` big-endian, `CDAB` word-swapped, `BADC` byte-swapped within
/// each word, `DCBA` little-endian. For 64-bit values the same rule applies to four words.
public enum ModbusByteOrder: String, Sendable, CaseIterable, Hashable {
    case abcd = "ABCD"
    case cdab = "CDAB"
    case badc = "BADC"
    case dcba = "DCBA"

    /// The registers arrive lowest word first.
    public var swapsWords: Bool { self == .cdab || self == .dcba }
    /// Each register carries its low byte first.
    public var swapsBytes: Bool { self == .badc || self == .dcba }
}
