/// A serial line's character format and speed: what one character costs in time, so a
/// silence measured in characters (Modbus RTU's 3.5, a device's "3 character gap") becomes a
/// duration the serial adapter can wait for.
public struct LineSettings: Sendable, Equatable {
    public enum Parity: String, CaseIterable, Sendable {
        case none, even, odd
    }

    public static let dataBitsRange: ClosedRange<Int> = 5...8
    public static let stopBitsRange: ClosedRange<Int> = 1...2
    /// termios offers rates from 50 baud; nothing on a field bus runs faster than 4 Mbaud.
    public static let baudRange: ClosedRange<Int> = 50...4_000_000

    public let baud: Int
    public let dataBits: Int
    public let parity: Parity
    public let stopBits: Int

    /// Nil when a value is outside its range (the device-file parser reports those with their line).
    public init?(baud: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1) {
        guard Self.baudRange.contains(baud), Self.dataBitsRange.contains(dataBits),
              Self.stopBitsRange.contains(stopBits) else { return nil }
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }

    /// Bits on the wire per character: the start bit, the data bits, a parity bit if any, the stop bits.
    public var bitsPerCharacter: Int { 1 + dataBits + (parity == .none ? 0 : 1) + stopBits }

    /// The time one character takes on the wire (8N1 at 9600 baud: 10 bits, 1.0417 ms).
    public var characterTime: Duration { .seconds(bitsPerCharacter) / baud }

    /// The time `characters` characters take: a silence this long ends or cuts a frame.
    public func gap(characters: Double) -> Duration { characterTime * characters }
}
