import Foundation
import GatewayCore
import Logging

/// Requests on the bus thread: the connection opened on demand, the pause between requests,
/// the counters, and the cloud's writes.
extension ModbusBus {
    /// How long a request waits for its turn on a shared serial line before it fails as a
    /// connection error (the other side holds a turn for one transaction: far less than this).
    static let lineTurnTimeout: Duration = .seconds(30)

    private func ready() throws(ModbusError) -> ModbusConnection {
        if connection == nil {
            guard let created = ModbusConnection(transport: transport) else {
                throw .connection("libmodbus cannot create a context for \(id)")
            }
            created.setResponseTimeout(settings.responseTimeout)
            created.setRawTrace(traceOn)
            connection = created
        }
        guard let connection else { throw .connection("no context") }
        if !connection.isConnected, let warning = try connection.connect() {
            logger.warning("\(warning)", metadata: ["bus": "\(id)"])
        }
        return connection
    }

    /// Runs one request with the inter-request delay and the counters around it.
    func request<T>(device d: Int, _ body: (ModbusConnection) throws(ModbusError) -> T) throws(ModbusError) -> T {
        // The thread blocks anyway (libmodbus is synchronous); the pause is the clock's.
        let wait = pacing.wait(at: clock.now)
        if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
        // A port shared with serial devices: one transaction at a time on the wire.
        if let line = settings.line {
            guard line.acquire(quietTime: settings.interRequestDelay, timeout: Self.lineTurnTimeout) else {
                throw .connection("the serial line \(line.path) stayed busy for \(Self.lineTurnTimeout)")
            }
        }
        defer {
            settings.line?.release()
            pacing.requestEnded(at: clock.now)
        }
        let sent = clock.now
        do {
            let connection = try ready()
            connection.tracer = tracer()
            if flushBeforeNextRequest {
                // Bytes that came in since the failure (an offline device is probed seconds
                // apart) would be read as this request's answer.
                connection.flush()
                flushBeforeNextRequest = false
            }
            let result = try body(connection)
            settings.responseTime.recordNanoseconds(sent.duration(to: clock.now).inNanoseconds)
            return result
        } catch {
            if error.slaveAnswered { settings.responseTime.recordNanoseconds(sent.duration(to: clock.now).inNanoseconds) }
            if !error.slaveAnswered { cycleSilence += sent.duration(to: clock.now) }
            stats.withLock { $0.bus.requests += 1; $0.devices[d].requests += 1; $0.bus.record(error); $0.devices[d].record(error) }
            switch error {
            case .timeout, .crc, .badResponse:
                // A late or broken answer must not be taken for the next one.
                if case .rtu = transport {
                    connection?.flush()
                    flushBeforeNextRequest = true
                } else {
                    connection?.close()
                }
            default:
                break
            }
            throw error
        }
    }

    /// Someone traces this bus (`edgegw trace modbus`): off, one relaxed atomic load.
    private func tracer() -> ModbusTracer? {
        guard let tap = settings.tap, tap.isOn, tap.isTracing(id.rawValue) else { return nil }
        return ModbusTracer(tap: tap, target: id.rawValue, clock: clock)
    }

    func execute(_ job: WriteJob) {
        let config = devices[job.device].config
        let unit = config.unitId
        var result: Result<Void, ModbusError> = .success(())
        for write in job.writes {
            do {
                try perform(write, unit: unit, device: job.device)
                if traceOn { logger.notice("unit \(unit) fc \(write.functionCode) wrote \(write)", metadata: ["bus": "\(id)"]) }
            } catch {
                logger.warning("write failed: \(error)", metadata: ["bus": "\(id)", "node": "\(config.nodeId)", "write": "\(write)"])
                result = .failure(error)
                break
            }
        }
        if case .success = result {
            // Read back soon, so the cloud sees the new value.
            schedule.readBack(device: job.device, at: clock.now)
        }
        job.completion(result)
    }

    private func perform(_ write: ModbusWrite, unit: Int, device d: Int) throws(ModbusError) {
        switch write {
        case .coil(let address, let value):
            try request(device: d) { (c) throws(ModbusError) in try c.writeCoil(unit: unit, address: address, value: value) }
        case .coils(let address, let values):
            try request(device: d) { (c) throws(ModbusError) in try c.writeCoils(unit: unit, address: address, values: values) }
        case .register(let address, let value):
            try request(device: d) { (c) throws(ModbusError) in try c.writeRegister(unit: unit, address: address, value: value) }
        case .registers(let address, let values):
            try request(device: d) { (c) throws(ModbusError) in try c.writeRegisters(unit: unit, address: address, values: values) }
        case .registerBit(let address, let bit, let value, let multipleOnly):
            let buffer = registerBuffer
            try request(device: d) { (c) throws(ModbusError) in
                try c.readRegisters(unit: unit, table: .holding, address: address, count: 1, into: buffer)
            }
            stats.withLock { $0.bus.requests += 1; $0.bus.responses += 1; $0.devices[d].requests += 1; $0.devices[d].responses += 1 }
            let mask = UInt16(1) << UInt16(bit)
            let updated = value ? (buffer[0] | mask) : (buffer[0] & ~mask)
            if multipleOnly {
                try request(device: d) { (c) throws(ModbusError) in try c.writeRegisters(unit: unit, address: address, values: [updated]) }
            } else {
                try request(device: d) { (c) throws(ModbusError) in try c.writeRegister(unit: unit, address: address, value: updated) }
            }
        }
        stats.withLock { $0.bus.requests += 1; $0.bus.responses += 1; $0.devices[d].requests += 1; $0.devices[d].responses += 1 }
    }
}
