/// Order of a multi-byte field on the wire.
public enum ByteOrder: String, CaseIterable, Sendable {
    /// Most significant byte first.
    case big
    /// Least significant byte first.
    case little

    /// Writes the low `size` bytes of `value` at `offset`; the caller has checked the range.
    func write(_ value: UInt32, size: Int, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<size {
            let shift = self == .big ? 8 * (size - 1 - index) : 8 * index
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt32(shift))
        }
    }

    /// Reads `size` bytes (1 to 4) at `offset`; the caller has checked the range.
    func read(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<size {
            let byte = UInt32(bytes[self == .big ? offset + index : offset + size - 1 - index])
            value = value << 8 | byte
        }
        return value
    }
}
