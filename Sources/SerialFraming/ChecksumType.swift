/// The checks a frame's trailer may carry. Each case names the algorithm's parameters as the
/// CRC catalogue does (width, polynomial, init, reflection, xorout), so a device manual's
/// "CRC-16 (Modbus)" or "CRC-CCITT (0xFFFF)" maps to one case; the check values in comments are
/// each algorithm's result over the ASCII bytes "123456789".
public enum ChecksumType: String, CaseIterable, Sendable {
    /// CRC-16/MODBUS: poly 0x8005 reflected, init 0xFFFF. Check 0x4B37.
    case crc16Modbus = "crc16_modbus"
    /// CRC-16/CCITT-FALSE (IBM-3740): poly 0x1021, init 0xFFFF, not reflected. Check 0x29B1.
    case crc16CCITTFalse = "crc16_ccitt_false"
    /// CRC-16/XMODEM: poly 0x1021, init 0, not reflected. Check 0x31C3.
    case crc16XModem = "crc16_xmodem"
    /// CRC-16/X-25 (HDLC's and PPP's frame check sequence): poly 0x1021 reflected, init and
    /// xorout 0xFFFF. Check 0x906E. Sent low byte first.
    case crc16X25 = "crc16_x25"
    /// CRC-16/KERMIT (CCITT, "CRC-16/CCITT-TRUE"): poly 0x1021 reflected, init 0. Check 0x2189.
    /// Sent low byte first.
    case crc16Kermit = "crc16_kermit"
    /// CRC-32/ISO-HDLC (zlib, Ethernet): poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF. Check 0xCBF43926.
    case crc32
    /// The byte sum modulo 256. Check 0xDD.
    case sum8
    /// The XOR of all bytes. Check 0x31.
    case xor8
    /// Longitudinal redundancy check: the two's complement of the byte sum, so that the covered
    /// bytes plus the check sum to zero. Check 0x23.
    case lrc

    /// Bytes the check takes on the wire.
    public var size: Int {
        switch self {
        case .crc16Modbus, .crc16CCITTFalse, .crc16XModem, .crc16X25, .crc16Kermit: 2
        case .crc32: 4
        case .sum8, .xor8, .lrc: 1
        }
    }

    /// Wire order when a layout does not say: the reflected 16-bit CRCs (Modbus RTU, HDLC's
    /// X.25, KERMIT) go low byte first, the others are usually printed and sent high byte first.
    public var defaultOrder: ByteOrder { [.crc16Modbus, .crc16X25, .crc16Kermit].contains(self) ? .little : .big }

    /// The check over `bytes`, in the low `size` bytes of the result.
    public func compute(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        switch self {
        case .crc16Modbus: UInt32(CRCTables.crc16Reflected(bytes, table: CRCTables.crc16Modbus, initial: 0xFFFF))
        case .crc16CCITTFalse: UInt32(CRCTables.crc16(bytes, table: CRCTables.crc16CCITT, initial: 0xFFFF))
        case .crc16XModem: UInt32(CRCTables.crc16(bytes, table: CRCTables.crc16CCITT, initial: 0))
        case .crc16X25: UInt32(CRCTables.crc16Reflected(bytes, table: CRCTables.crc16CCITTReflected, initial: 0xFFFF) ^ 0xFFFF)
        case .crc16Kermit: UInt32(CRCTables.crc16Reflected(bytes, table: CRCTables.crc16CCITTReflected, initial: 0))
        case .crc32: CRCTables.crc32(bytes)
        case .sum8: UInt32(Self.byteSum(bytes))
        case .xor8: UInt32(bytes.reduce(0 as UInt8, ^))
        case .lrc: UInt32(0 &- Self.byteSum(bytes))
        }
    }

    /// The check over a slice of a frame.
    public func compute(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { compute($0) }
    }

    private static func byteSum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var sum: UInt8 = 0
        for byte in bytes { sum &+= byte }
        return sum
    }
}
