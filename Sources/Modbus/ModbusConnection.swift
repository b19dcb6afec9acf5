import CModbus
import Foundation

/// A thin owner of one libmodbus context. Blocking: only its bus thread calls it.
final class ModbusConnection {
    let context: OpaquePointer
    private let transport: ModbusTransport
    let framing: ModbusFraming
    private(set) var isConnected = false
    /// Set by the bus for each request while someone traces it: the request goes out raw and
    /// both frames go to the trace (ModbusConnection+Trace.swift).
    var tracer: ModbusTracer?
    private var currentUnit = -1
    /// libmodbus's errno values for broken answers (modbus.h: `EMBBADCRC` …).
    private static let errorBase = Int32(MODBUS_ENOBASE)
    private static let badCRC = errorBase + 12
    private static let lastException = errorBase + 11

    init?(transport: ModbusTransport) {
        let context: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            context = modbus_new_tcp_pi(host, String(port))
        case .rtuOverTCP:
            // libmodbus's RTU backend reads and writes whatever descriptor it is given: a TCP
            // socket we open ourselves (`connect`) carries the RTU frames.
            context = modbus_new_rtu("rtu-over-tcp", 9600, CChar(UInt8(ascii: "N")), 8, 1)
        case .rtu(let serial):
            let parity: CChar = switch serial.parity {
            case .none: CChar(UInt8(ascii: "N"))
            case .even: CChar(UInt8(ascii: "E"))
            case .odd: CChar(UInt8(ascii: "O"))
            }
            context = modbus_new_rtu(serial.device, Int32(serial.baud), parity, Int32(serial.dataBits), Int32(serial.stopBits))
        }
        guard let context else { return nil }
        self.context = context
        self.transport = transport
        self.framing = ModbusFraming(transport)
        modbus_set_error_recovery(context, MODBUS_ERROR_RECOVERY_NONE)
    }

    deinit {
        close()
        modbus_free(context)
    }

    private var responseTimeout: Duration = .seconds(1)

    func setResponseTimeout(_ timeout: Duration) {
        responseTimeout = timeout
        let micros = max(1000, timeout.milliseconds * 1000)
        modbus_set_response_timeout(context, UInt32(micros / 1_000_000), UInt32(micros % 1_000_000))
    }

    /// libmodbus prints every frame in hex on stdout when on.
    func setRawTrace(_ on: Bool) { modbus_set_debug(context, on ? 1 : 0) }

    /// Opens the socket or serial port. Returns a warning for an RS-485 switch the port refused.
    func connect() throws(ModbusError) -> String? {
        if isConnected { return nil }
        if case .rtuOverTCP(let host, let port) = transport {
            let socket = try TCPSocket.connect(host: host, port: port, timeout: responseTimeout)
            modbus_set_socket(context, socket)
        } else {
            guard modbus_connect(context) == 0 else { throw .connection(Self.lastError()) }
        }
        isConnected = true
        currentUnit = -1
        if case .rtu(let serial) = transport, serial.rs485 {
            if modbus_rtu_set_serial_mode(context, Int32(MODBUS_RTU_RS485)) != 0 {
                return "cannot switch \(serial.device) to RS-485 mode: \(Self.lastError()); using it as it is"
            }
        }
        return nil
    }

    func close() {
        guard isConnected else { return }
        modbus_close(context)
        isConnected = false
    }

    /// Drops whatever a late answer left in the input.
    func flush() { if isConnected { modbus_flush(context) } }

    func select(unit: Int) {
        if unit != currentUnit {
            modbus_set_slave(context, Int32(unit))
            currentUnit = unit
        }
    }

    /// Reads registers of a register table into `buffer` (at least `count` long).
    func readRegisters(unit: Int, table: ModbusTable, address: Int, count: Int,
                       into buffer: UnsafeMutablePointer<UInt16>) throws(ModbusError) {
        if let tracer {
            let data = try traced(unit: unit, .read(table: table, address: address, count: count), tracer)
            for i in 0..<count { buffer[i] = UInt16(data[2 * i]) << 8 | UInt16(data[2 * i + 1]) }
            return
        }
        select(unit: unit)
        let rc = table == .holding
            ? modbus_read_registers(context, Int32(address), Int32(count), buffer)
            : modbus_read_input_registers(context, Int32(address), Int32(count), buffer)
        if rc != Int32(count) { throw failure(rc) }
    }

    /// Reads bits of a bit table into `buffer` (one byte per bit).
    func readBits(unit: Int, table: ModbusTable, address: Int, count: Int,
                  into buffer: UnsafeMutablePointer<UInt8>) throws(ModbusError) {
        if let tracer {
            let data = try traced(unit: unit, .read(table: table, address: address, count: count), tracer)
            for i in 0..<count { buffer[i] = data[i / 8] >> UInt8(i % 8) & 1 }
            return
        }
        select(unit: unit)
        let rc = table == .coil
            ? modbus_read_bits(context, Int32(address), Int32(count), buffer)
            : modbus_read_input_bits(context, Int32(address), Int32(count), buffer)
        if rc != Int32(count) { throw failure(rc) }
    }

    func writeCoil(unit: Int, address: Int, value: Bool) throws(ModbusError) {
        if let tracer { _ = try traced(unit: unit, .writeCoil(address: address, value: value), tracer); return }
        select(unit: unit)
        let rc = modbus_write_bit(context, Int32(address), value ? 1 : 0)
        if rc != 1 { throw failure(rc) }
    }

    func writeCoils(unit: Int, address: Int, values: [Bool]) throws(ModbusError) {
        if let tracer { _ = try traced(unit: unit, .writeCoils(address: address, values: values), tracer); return }
        select(unit: unit)
        let bytes = values.map { UInt8($0 ? 1 : 0) }
        let rc = modbus_write_bits(context, Int32(address), Int32(bytes.count), bytes)
        if rc != Int32(bytes.count) { throw failure(rc) }
    }

    func writeRegister(unit: Int, address: Int, value: UInt16) throws(ModbusError) {
        if let tracer { _ = try traced(unit: unit, .writeRegister(address: address, value: value), tracer); return }
        select(unit: unit)
        let rc = modbus_write_register(context, Int32(address), value)
        if rc != 1 { throw failure(rc) }
    }

    func writeRegisters(unit: Int, address: Int, values: [UInt16]) throws(ModbusError) {
        if let tracer { _ = try traced(unit: unit, .writeRegisters(address: address, values: values), tracer); return }
        select(unit: unit)
        let rc = modbus_write_registers(context, Int32(address), Int32(values.count), values)
        if rc != Int32(values.count) { throw failure(rc) }
    }

    /// Classifies the error libmodbus left in errno; a broken link is closed so the next request reconnects.
    func failure(_ rc: Int32) -> ModbusError {
        let code = errno
        if rc >= 0 { return .badResponse("answered \(rc) items") }
        switch code {
        case ETIMEDOUT:
            return .timeout
        case Self.badCRC:
            return .crc
        case (Self.errorBase + 1)...Self.lastException:
            return .exception(code: UInt8(code - Self.errorBase))
        case (Self.badCRC + 1)...(Self.badCRC + 5):
            return .badResponse(Self.message(code))
        default:
            close()
            return .connection(Self.message(code))
        }
    }

    private static func lastError() -> String { message(errno) }

    private static func message(_ code: Int32) -> String {
        guard let text = modbus_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
