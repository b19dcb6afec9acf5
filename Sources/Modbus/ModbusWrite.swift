/// One write on the wire, chosen by `WritePlanner` to fit the point.
public enum ModbusWrite: Sendable, Equatable {
    /// Function 5.
    case coil(address: Int, value: Bool)
    /// Function 15.
    case coils(address: Int, values: [Bool])
    /// Function 6.
    case register(address: Int, value: UInt16)
    /// Function 16.
    case registers(address: Int, values: [UInt16])
    /// One bit of a holding register: read it (function 3), then write it back with the bit
    /// changed (function 6, or 16 when `multipleOnly`).
    case registerBit(address: Int, bit: Int, value: Bool, multipleOnly: Bool)

    public var functionCode: UInt8 {
        switch self {
        case .coil: 5
        case .coils: 15
        case .register: 6
        case .registers: 16
        case .registerBit(_, _, _, let multipleOnly): multipleOnly ? 16 : 6
        }
    }
}
