/// Byte-at-a-time CRC tables: one lookup, one shift and one XOR per byte, which keeps a
/// 115,200-baud line's frames (and the garbage hunted through between them) cheap to check.
enum CRCTables {
    /// CRC-16 with polynomial 0x8005, reflected (0xA001).
    static let crc16Modbus: [UInt16] = reflected16(polynomial: 0xA001)
    /// CRC-16 with polynomial 0x1021, not reflected (CCITT-FALSE and XMODEM differ in their initial value).
    static let crc16CCITT: [UInt16] = normal16(polynomial: 0x1021)
    /// CRC-16 with polynomial 0x1021, reflected (0x8408): X-25 and KERMIT differ in init and xorout.
    static let crc16CCITTReflected: [UInt16] = reflected16(polynomial: 0x8408)
    /// CRC-32 with polynomial 0x04C11DB7, reflected (0xEDB88320).
    static let crc32Table: [UInt32] = reflected32(polynomial: 0xEDB8_8320)

    static func crc16Reflected(_ bytes: UnsafeBufferPointer<UInt8>, table: [UInt16], initial: UInt16) -> UInt16 {
        table.withUnsafeBufferPointer { table in
            var crc = initial
            for byte in bytes { crc = (crc >> 8) ^ table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] }
            return crc
        }
    }

    static func crc16(_ bytes: UnsafeBufferPointer<UInt8>, table: [UInt16], initial: UInt16) -> UInt16 {
        table.withUnsafeBufferPointer { table in
            var crc = initial
            for byte in bytes { crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)] }
            return crc
        }
    }

    static func crc32(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        crc32Table.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes { crc = (crc >> 8) ^ table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] }
            return crc ^ 0xFFFF_FFFF
        }
    }

    private static func reflected16(polynomial: UInt16) -> [UInt16] {
        (0..<256).map { index in
            var crc = UInt16(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            return crc
        }
    }

    private static func normal16(polynomial: UInt16) -> [UInt16] {
        (0..<256).map { index in
            var crc = UInt16(index) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ polynomial : crc << 1 }
            return crc
        }
    }

    private static func reflected32(polynomial: UInt32) -> [UInt32] {
        (0..<256).map { index in
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            return crc
        }
    }
}
