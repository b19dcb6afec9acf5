/// Limits the Modbus application protocol sets on one request (Modbus Application Protocol
/// v1.1b3 §6; libmodbus's `MODBUS_MAX_*`). The read planner and the write planner never exceed them.
public enum ModbusLimits {
    /// Registers one read (function 3 or 4) may ask for.
    public static let maxReadRegisters = 125
    /// Bits one read (function 1 or 2) may ask for.
    public static let maxReadBits = 2000
    /// Registers one write (function 16) may carry.
    public static let maxWriteRegisters = 123
    /// Coils one write (function 15) may carry.
    public static let maxWriteBits = 1968
    /// Highest protocol address of any table (addresses are 16 bits, 0-based on the wire).
    public static let maxAddress = 65535
    /// Unit ids a master may address (0 is broadcast, 248–255 are reserved).
    public static let unitIds: ClosedRange<Int> = 1...247
}
