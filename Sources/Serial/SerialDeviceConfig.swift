import Foundation
import GatewayCore
import SerialFraming

/// One serial port as a device file declares it: the line's settings and how the gateway
/// drives it. Devices that name the same port share it, and must declare it alike.
public struct SerialPortSettings: Sendable, Equatable {
    public var device: String
    public var line: LineSettings
    /// Switch the port to RS-485 mode (`TIOCSRS485`) where the driver has it.
    public var rs485: Bool
    /// A 2-wire RS-485 adapter hears its own transmission: drop that echo before framing.
    public var echo: Bool
    /// Silence on the line between the end of one transaction and the next request; nil:
    /// the framing's gap (3.5 characters when it declares none).
    public var interFrameDelay: Duration?

    public init(device: String, line: LineSettings, rs485: Bool = false, echo: Bool = false, interFrameDelay: Duration? = nil) {
        self.device = device
        self.line = line
        self.rs485 = rs485
        self.echo = echo
        self.interFrameDelay = interFrameDelay
    }
}

/// What a polled device is sent, and how long it has to answer.
public struct SerialPollSettings: Sendable, Equatable {
    public enum Request: Sendable, Equatable {
        /// A command of the product without parameters, encoded by its codec and framed.
        case command(String)
        /// Literal bytes from the device's manual, sent as they are (already framed).
        case bytes([UInt8])
    }

    public var interval: Duration
    public var request: Request
    public var responseTimeout: Duration

    public init(interval: Duration, request: Request, responseTimeout: Duration) {
        self.interval = interval
        self.request = request
        self.responseTimeout = responseTimeout
    }
}

/// A framed binary device on a serial line (a device file with `[transport] kind = "serial"`).
public struct SerialDeviceConfig: Sendable, Equatable {
    public var nodeId: String
    public var productId: String
    public var name: String?
    public var port: SerialPortSettings
    public var framing: FramingSpec
    /// The device's address in its frames (`[framing] address_offset`): frames are routed by it
    /// and requests carry it. Nil: the only device on its port.
    public var address: UInt8?
    /// Nil: the device reports on its own.
    public var poll: SerialPollSettings?
    /// An unsolicited device that sends nothing for this long is OFFLINE.
    public var silenceBeforeOffline: Duration
    /// How long a cloud command waits for the device's response (within the platform's window).
    public var commandTimeout: Duration
    public var file: String
    public var line: Int?

    public init(nodeId: String, productId: String, name: String? = nil, port: SerialPortSettings, framing: FramingSpec,
                address: UInt8? = nil, poll: SerialPollSettings? = nil, silenceBeforeOffline: Duration = .seconds(600),
                commandTimeout: Duration = .seconds(3), file: String = "", line: Int? = nil) {
        self.nodeId = nodeId
        self.productId = productId
        self.name = name
        self.port = port
        self.framing = framing
        self.address = address
        self.poll = poll
        self.silenceBeforeOffline = silenceBeforeOffline
        self.commandTimeout = commandTimeout
        self.file = file
        self.line = line
    }

    /// The silence between transactions on this device's port.
    public var interFrameDelay: Duration {
        port.interFrameDelay ?? port.line.characterTime * (framing.gapChars ?? SerialLimits.defaultGapCharacters)
    }
}

/// Bounds and defaults of serial devices, each a named rule with a test.
public enum SerialLimits {
    /// The silence between frames when the framing names none: Modbus RTU's 3.5 characters,
    /// the convention of the RS-485 devices this gateway meets.
    public static let defaultGapCharacters = 3.5
    /// Poll intervals: no faster than 50 ms (a 9600-baud line carries ~50 short exchanges a
    /// second), no slower than a day.
    public static let pollIntervals: ClosedRange<Int64> = 50...86_400_000
    /// Response timeouts (ms).
    public static let responseTimeouts: ClosedRange<Int64> = 10...60_000
    /// A device's address byte.
    public static let addresses: ClosedRange<Int64> = 0...255
    /// Baud rates termios offers.
    public static let baudRates: Set<Int> = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600]
}

extension LineSettings {
    /// "9600 8N1", as technicians write it.
    public var summary: String {
        "\(baud) \(dataBits)\(parity == .none ? "N" : parity == .even ? "E" : "O")\(stopBits)"
    }
}
