import Foundation
import Glibc
import SerialFraming

/// What went wrong with a serial port, for the log and the counters.
public enum SerialPortError: Error, Equatable, CustomStringConvertible {
    /// The port cannot be opened (absent: an unplugged USB adapter; busy; no permission).
    case open(path: String, errno: Int32)
    /// The line settings were refused by the driver.
    case configure(path: String, errno: Int32)
    /// The port went away under us (EIO, hang-up) or a read or write failed.
    case lost(path: String, errno: Int32)
    /// A write did not finish in time (flow control stuck, a dead adapter).
    case writeTimeout(path: String)

    public var description: String {
        switch self {
        case .open(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
        case .configure(let path, let code): "cannot set the line settings of \(path): \(String(cString: strerror(code)))"
        case .lost(let path, let code): "\(path) is gone: \(code == 0 ? "hang-up" : String(cString: strerror(code)))"
        case .writeTimeout(let path): "writing to \(path) did not finish in time"
        }
    }
}

/// One open serial port: raw mode, the line's settings, RS-485 mode where the driver has it.
/// A thin adapter over termios; the port thread owns it (not thread-safe).
final class SerialPort {
    let path: String
    let fd: Int32

    /// Opens and configures the port. `rs485Unsupported` is set when RS-485 mode was asked for
    /// and the driver has none (a pty, an RS-232 adapter): the port is used as it is.
    init(path: String, line: LineSettings, rs485: Bool, rs485Unsupported: inout Bool) throws(SerialPortError) {
        self.path = path
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .open(path: path, errno: errno) }
        self.fd = fd
        var tio = termios()
        guard tcgetattr(fd, &tio) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .configure(path: path, errno: code)
        }
        cfmakeraw(&tio)
        tio.c_cflag |= tcflag_t(CLOCAL | CREAD)
        tio.c_cflag &= ~(tcflag_t(CSIZE | PARENB | PARODD | CSTOPB) | tcflag_t(CRTSCTS))
        tio.c_cflag |= Self.sizeFlag(line.dataBits)
        switch line.parity {
        case .none: break
        case .even: tio.c_cflag |= tcflag_t(PARENB)
        case .odd: tio.c_cflag |= tcflag_t(PARENB | PARODD)
        }
        if line.stopBits == 2 { tio.c_cflag |= tcflag_t(CSTOPB) }
        // Non-blocking reads driven by poll(2): VMIN and VTIME play no part.
        tio.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        let speed = Self.speed(line.baud)
        guard cfsetispeed(&tio, speed) == 0, cfsetospeed(&tio, speed) == 0, tcsetattr(fd, TCSANOW, &tio) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .configure(path: path, errno: code)
        }
        tcflush(fd, TCIOFLUSH)
        if rs485 { rs485Unsupported = !Self.enableRS485(fd) }
    }

    deinit { Glibc.close(fd) }

    /// Reads what is there, up to `capacity` bytes into `buffer`: the count (0 = nothing yet).
    /// A read of 0 is not an end of file here: with VMIN = 0 (libmodbus sets it when it shares
    /// the port, and termios settings belong to the port, not to the descriptor) an empty
    /// non-blocking read returns 0. A vanished port shows as EIO and poll's POLLHUP.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws(SerialPortError) -> Int {
        let count = Glibc.read(fd, buffer, capacity)
        if count >= 0 { return count }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return 0 }
        throw .lost(path: path, errno: code)
    }

    /// Writes all of `bytes`, waiting for room while the driver's buffer is full, up to `timeout`.
    func write(_ bytes: [UInt8], timeout: Duration) throws(SerialPortError) {
        let deadline = ContinuousClock.now + timeout
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + written, raw.count - written)
            }
            if count > 0 {
                written += count
                continue
            }
            let code = errno
            guard count < 0, code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
                throw .lost(path: path, errno: count == 0 ? 0 : code)
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw .writeTimeout(path: path) }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, Int32(max(1, min(left.milliseconds, 1000))))
        }
    }

    /// Drops what was received and not read yet (a shared line's turn starts clean).
    func discardInput() { tcflush(fd, TCIFLUSH) }

    static func sizeFlag(_ dataBits: Int) -> tcflag_t {
        switch dataBits {
        case 5: tcflag_t(CS5)
        case 6: tcflag_t(CS6)
        case 7: tcflag_t(CS7)
        default: tcflag_t(CS8)
        }
    }

    /// The termios speed of a baud rate the device-file parser accepted.
    static func speed(_ baud: Int) -> speed_t {
        switch baud {
        case 1200: speed_t(B1200)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115_200: speed_t(B115200)
        case 230_400: speed_t(B230400)
        case 460_800: speed_t(B460800)
        case 921_600: speed_t(B921600)
        default: speed_t(B9600)
        }
    }

    /// linux/serial.h's `struct serial_rs485`, which Glibc's module does not carry.
    private struct RS485Settings {
        var flags: UInt32 = 0
        var delayRTSBeforeSend: UInt32 = 0
        var delayRTSAfterSend: UInt32 = 0
        var padding: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0)
    }

    private static let tiocsrs485: UInt = 0x542F
    private static let rs485Enabled: UInt32 = 1 << 0
    private static let rs485RTSOnSend: UInt32 = 1 << 1

    /// The driver drives the transmitter (RTS high while sending); false when it cannot.
    private static func enableRS485(_ fd: Int32) -> Bool {
        var settings = RS485Settings(flags: rs485Enabled | rs485RTSOnSend)
        return withUnsafeMutablePointer(to: &settings) { ioctl(fd, tiocsrs485, UnsafeMutableRawPointer($0)) } == 0
    }
}

extension Duration {
    /// Whole milliseconds, rounded up (poll(2) timeouts must not wake before the deadline).
    var milliseconds: Int {
        let parts = components
        let ms = parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
        let rest = parts.attoseconds % 1_000_000_000_000_000
        return Int(ms) + (rest > 0 ? 1 : 0)
    }
}
