import Foundation
import GatewayCore
import Logging

/// What a bus reports to its service.
enum ModbusBusEvent: Sendable {
    /// Values of one cycle: (index into the device's points, value), collected at `time`.
    case values(nodeId: String, values: [(point: Int, value: JSONValue)], time: Date)
    case status(nodeId: String, status: ChildStatus, time: Date)
}

/// Timing and health rules of one bus.
struct ModbusBusSettings: Sendable {
    var interRequestDelay: Duration
    var responseTimeout: Duration
    var health: DeviceHealth<ContinuousClock.Instant>.Policy
    var trace: Bool
}

/// All devices on one serial port or one TCP address: one thread (libmodbus blocks), one
/// request at a time, writes ahead of reads, an inter-request delay, and a dead slave that
/// backs off instead of eating the bus.
///
/// State marked "bus thread" is touched only by that thread; the rest sits behind `condition`
/// or `stats`.
final class ModbusBus: @unchecked Sendable {
    struct WriteJob: Sendable {
        var device: Int
        var writes: [ModbusWrite]
        var completion: @Sendable (Result<Void, ModbusError>) -> Void
    }

    struct Stats: Sendable {
        var bus = ModbusCounters()
        var devices: [ModbusCounters]
        var health: [DeviceHealth<ContinuousClock.Instant>.State]
        var trace: Bool
    }

    /// One device as its bus thread keeps it.
    final class DeviceState {
        let config: ModbusDeviceConfig
        let plans: [[ModbusReadRequest]]
        var nextDue: [ContinuousClock.Instant]
        var health: DeviceHealth<ContinuousClock.Instant>
        /// Where each point sits: (address, registers or bits), by point index.
        let spans: [(address: Int, count: Int)]
        /// The raw words of the last good answer to each planned read (bits as 0/1), by [group][read].
        let lastRaw: [[UnsafeMutablePointer<UInt16>]]
        /// Whether a point has a decoded value; points whose words did not change are not decoded again.
        var known: [Bool]
        /// Whether every point of a planned read has a decoded value, by [group][read].
        var complete: [[Bool]]
        var overrunLogged = false
        /// Failures of each planned read in a row, by [group][read]: logged when they start and end.
        var readFailures: [[FailureStreak<ModbusError>]]
        /// Points that fail to decode in a row, by point index.
        var decodeFailures: [FailureStreak<PointCodec.DecodeError>]

        init(config: ModbusDeviceConfig, health: DeviceHealth<ContinuousClock.Instant>, now: ContinuousClock.Instant) {
            self.config = config
            self.plans = ReadPlanner.plan(device: config)
            self.nextDue = plans.map { _ in now }
            self.health = health
            self.spans = config.points.map { ($0.address, $0.count) }
            self.lastRaw = plans.map { $0.map { request in
                let buffer = UnsafeMutablePointer<UInt16>.allocate(capacity: request.count)
                buffer.initialize(repeating: 0, count: request.count)
                return buffer
            } }
            self.known = config.points.map { _ in false }
            self.complete = plans.map { $0.map { _ in false } }
            self.readFailures = plans.map { $0.map { _ in FailureStreak() } }
            self.decodeFailures = config.points.map { _ in FailureStreak() }
        }

        deinit { for group in lastRaw { for buffer in group { buffer.deallocate() } } }
    }

    let id: ModbusBusID
    let transport: ModbusTransport
    let settings: ModbusBusSettings
    let deviceConfigs: [ModbusDeviceConfig]
    let stats: Locked<Stats>
    let logger: Logger
    private let onEvent: @Sendable (ModbusBusEvent) -> Void
    private let clock = ContinuousClock()

    // Shared, behind `condition`.
    private let condition = NSCondition()
    private var writeQueue: [WriteJob] = []
    private var stopping = false
    private var traceWanted: Bool
    private var started = false
    private var finished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    // Bus thread.
    private let devices: [DeviceState]
    private var connection: ModbusConnection?
    private var traceOn = false
    private var lastRequestEnd: ContinuousClock.Instant?
    private var cycleGoodReads = 0
    private var cycleItemsRead = 0
    /// Time the cycle in progress spent waiting for answers that did not come.
    private var cycleSilence: Duration = .zero
    private let registerBuffer = UnsafeMutablePointer<UInt16>.allocate(capacity: ModbusLimits.maxReadRegisters)
    private let bitBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: ModbusLimits.maxReadBits)

    init(id: ModbusBusID, transport: ModbusTransport, devices: [ModbusDeviceConfig], settings: ModbusBusSettings,
         logger: Logger, onEvent: @escaping @Sendable (ModbusBusEvent) -> Void) {
        self.id = id
        self.transport = transport
        self.settings = settings
        self.deviceConfigs = devices
        self.logger = logger
        self.onEvent = onEvent
        self.traceWanted = settings.trace
        let now = ContinuousClock.now
        self.devices = devices.map { DeviceState(config: $0, health: DeviceHealth(policy: settings.health), now: now) }
        self.stats = Locked(Stats(devices: devices.map { _ in ModbusCounters() },
                                  health: devices.map { _ in .unknown }, trace: settings.trace))
    }

    deinit {
        registerBuffer.deallocate()
        bitBuffer.deallocate()
    }

    // MARK: - Control (any thread)

    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let name = "modbus \(id)"
        let thread = Thread { [self] in
            Thread.current.name = name
            self.loop()
        }
        thread.start()
    }

    /// Asks the thread to stop after the request in flight; queued writes fail with `.stopped`.
    func stop() {
        condition.lock()
        stopping = true
        let neverStarted = !started
        condition.signal()
        condition.unlock()
        if neverStarted { finish() }
    }

    /// Returns when the thread has ended.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume()
            } else {
                finishWaiters.append(continuation)
                condition.unlock()
            }
        }
    }

    func setTrace(_ on: Bool) {
        condition.lock()
        traceWanted = on
        condition.signal()
        condition.unlock()
        stats.withLock { $0.trace = on }
    }

    func submit(_ job: WriteJob) {
        condition.lock()
        if stopping {
            condition.unlock()
            job.completion(.failure(.stopped))
            return
        }
        writeQueue.append(job)
        condition.signal()
        condition.unlock()
    }

    func write(device: Int, writes: [ModbusWrite]) async -> Result<Void, ModbusError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, ModbusError>, Never>) in
            submit(WriteJob(device: device, writes: writes) { continuation.resume(returning: $0) })
        }
    }

    // MARK: - The bus thread

    private func loop() {
        logger.debug("bus thread started", metadata: ["bus": "\(id)"])
        while true {
            condition.lock()
            if stopping { condition.unlock(); break }
            let trace = traceWanted
            let job = writeQueue.isEmpty ? nil : writeQueue.removeFirst()
            condition.unlock()
            if trace != traceOn { applyTrace(trace) }
            if let job {
                execute(job)
                continue
            }
            guard let next = nextCycle() else {
                wait(until: nil)
                continue
            }
            if next.due <= clock.now {
                runCycle(device: next.device, group: next.group)
            } else {
                wait(until: next.due)
            }
        }
        condition.lock()
        let abandoned = writeQueue
        writeQueue.removeAll()
        condition.unlock()
        for job in abandoned { job.completion(.failure(.stopped)) }
        connection?.close()
        connection = nil
        logger.debug("bus thread ended", metadata: ["bus": "\(id)"])
        finish()
    }

    private func finish() {
        condition.lock()
        finished = true
        let waiters = finishWaiters
        finishWaiters.removeAll()
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    private func wait(until due: ContinuousClock.Instant?) {
        condition.lock()
        if !stopping, writeQueue.isEmpty, traceWanted == traceOn {
            if let due {
                let seconds = clock.now.duration(to: due).seconds
                if seconds > 0 { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    private func applyTrace(_ on: Bool) {
        traceOn = on
        connection?.setRawTrace(on)
        logger.notice("hex trace \(on ? "on" : "off")", metadata: ["bus": "\(id)"])
    }

    /// The cycle due first; an offline device only at its retry time.
    private func nextCycle() -> (device: Int, group: Int, due: ContinuousClock.Instant)? {
        var best: (device: Int, group: Int, due: ContinuousClock.Instant)?
        for (d, device) in devices.enumerated() {
            for (g, plan) in device.plans.enumerated() where !plan.isEmpty {
                var due = device.nextDue[g]
                if device.health.state == .offline, let retryAt = device.health.retryAt { due = max(due, retryAt) }
                if let current = best, current.due <= due { continue }
                best = (d, g, due)
            }
        }
        return best
    }

    private func runCycle(device d: Int, group g: Int) {
        let start = clock.now
        let state = devices[d]
        let config = state.config
        var values: [(point: Int, value: JSONValue)] = []
        var answered = false
        var silent = false
        cycleSilence = .zero
        for (r, request) in state.plans[g].enumerated() {
            drainWrites()
            do {
                try read(request, device: d, group: g, index: r, into: &values)
                answered = true
                if let event = state.readFailures[g][r].succeeded() { log(event, config, request) }
            } catch {
                // Logged when a run of failures starts, changes or ends, never once per poll.
                if let event = state.readFailures[g][r].failed(error) { log(event, config, request) }
                if error.slaveAnswered {
                    answered = true
                } else {
                    // No answer: the rest of the cycle would only cost more timeouts.
                    silent = true
                    break
                }
            }
        }
        let end = clock.now
        let interval = config.pollGroups[g].interval
        state.nextDue[g] = max(start.advanced(by: interval), end)
        // A cycle longer than its interval means the bus cannot keep up: say so once per device.
        // Time spent waiting for a slave that did not answer is that slave's timeout (logged as
        // such), not a sign of an overloaded bus.
        let took = start.duration(to: end)
        if interval > .zero, took - cycleSilence > interval, !state.overrunLogged {
            state.overrunLogged = true
            let waited = cycleSilence > .zero ? " (\(cycleSilence.logText) of it waiting for answers that did not come)" : ""
            logger.warning("poll group \(config.pollGroups[g].name) took \(took.logText)\(waited), longer than its interval \(interval.logText); the bus is overloaded",
                           metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
        }
        let time = Date()
        let action = (silent && !answered) ? state.health.cycleFailed(at: end) : state.health.cycleSucceeded(at: end)
        let health = state.health.state
        let (goodReads, itemsRead) = (cycleGoodReads, cycleItemsRead)
        cycleGoodReads = 0
        cycleItemsRead = 0
        stats.withLock {
            $0.health[d] = health
            if goodReads > 0 {
                $0.bus.requests += goodReads; $0.bus.responses += goodReads; $0.bus.itemsRead += itemsRead; $0.bus.lastGoodRead = time
                $0.devices[d].requests += goodReads; $0.devices[d].responses += goodReads; $0.devices[d].itemsRead += itemsRead
                $0.devices[d].lastGoodRead = time
            }
        }
        switch action {
        case .reportOnline?:
            logger.notice("device online", metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
            onEvent(.status(nodeId: config.nodeId, status: .online, time: time))
        case .reportOffline?:
            logger.warning("device offline after \(state.health.consecutiveFailures) failed cycles",
                           metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
            onEvent(.status(nodeId: config.nodeId, status: .offline, time: time))
        case nil:
            break
        }
        if !values.isEmpty { onEvent(.values(nodeId: config.nodeId, values: values, time: time)) }
    }

    /// Writes waiting while a cycle runs go between its reads.
    private func drainWrites() {
        while true {
            condition.lock()
            let job = writeQueue.isEmpty ? nil : writeQueue.removeFirst()
            condition.unlock()
            guard let job else { return }
            execute(job)
        }
    }

    // MARK: - Requests (bus thread)

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
    private func request<T>(device d: Int, _ body: (ModbusConnection) throws(ModbusError) -> T) throws(ModbusError) -> T {
        if let last = lastRequestEnd, settings.interRequestDelay > .zero {
            let wait = clock.now.duration(to: last.advanced(by: settings.interRequestDelay))
            if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
        }
        defer { if settings.interRequestDelay > .zero { lastRequestEnd = clock.now } }
        let sent = clock.now
        do {
            let connection = try ready()
            return try body(connection)
        } catch {
            if !error.slaveAnswered { cycleSilence += sent.duration(to: clock.now) }
            stats.withLock { $0.bus.requests += 1; $0.devices[d].requests += 1; $0.bus.record(error); $0.devices[d].record(error) }
            switch error {
            case .timeout, .crc, .badResponse:
                // A late or broken answer must not be taken for the next one.
                if case .rtu = transport { connection?.flush() } else { connection?.close() }
            default:
                break
            }
            throw error
        }
    }

    private func read(_ request: ModbusReadRequest, device d: Int, group g: Int, index r: Int,
                      into values: inout [(point: Int, value: JSONValue)]) throws(ModbusError) {
        let state = devices[d]
        let unit = state.config.unitId
        let registers = registerBuffer, bits = bitBuffer
        try self.request(device: d) { (connection) throws(ModbusError) in
            if request.table.holdsBits {
                try connection.readBits(unit: unit, table: request.table, address: request.address, count: request.count, into: bits)
            } else {
                try connection.readRegisters(unit: unit, table: request.table, address: request.address, count: request.count, into: registers)
            }
        }
        // Counted once per cycle (see runCycle), to keep the lock off the per-request path.
        cycleGoodReads += 1
        cycleItemsRead += request.count
        let last = state.lastRaw[g][r]
        if request.table.holdsBits {
            for i in 0..<request.count { registers[i] = UInt16(bits[i]) }
        }
        if traceOn { trace(state.config, request, registers, bits: request.table.holdsBits) }
        // Only points whose words changed since the last answer are decoded and reported.
        var low = 0, high = request.count - 1
        while low <= high, last[low] == registers[low] { low += 1 }
        while high >= low, last[high] == registers[high] { high -= 1 }
        let complete = state.complete[g][r]
        if complete, low > high { return }
        // Points are in address order: start at the first one that can reach `low`.
        let points = request.points
        var start = 0
        if complete {
            var upper = points.count
            while start < upper {
                let middle = (start + upper) / 2
                let span = state.spans[points[middle]]
                if span.address - request.address + span.count - 1 < low { start = middle + 1 } else { upper = middle }
            }
        }
        var allKnown = true
        for index in points[start...] {
            let span = state.spans[index]
            let from = span.address - request.address
            if complete, from > high { break }
            if state.known[index], from > high || from + span.count - 1 < low { continue }
            let point = state.config.points[index]
            if request.table.holdsBits {
                values.append((index, PointCodec.decode(point: point, bit: registers[from] != 0)))
                state.known[index] = true
                continue
            }
            let words = UnsafeBufferPointer(start: registers + from, count: span.count)
            switch PointCodec.decode(point: point, registers: words) {
            case .success(let value):
                values.append((index, value))
                state.known[index] = true
                if let event = state.decodeFailures[index].succeeded() { log(event, state.config, point: index) }
            case .failure(let error):
                // Decoded again every poll until it works; logged when that starts and ends.
                state.known[index] = false
                allKnown = false
                if let event = state.decodeFailures[index].failed(error) { log(event, state.config, point: index) }
            }
        }
        if !complete, allKnown { state.complete[g][r] = true }
        last.update(from: registers, count: request.count)
    }

    private func trace(_ config: ModbusDeviceConfig, _ request: ModbusReadRequest, _ words: UnsafeMutablePointer<UInt16>, bits: Bool) {
        let buffer = UnsafeBufferPointer(start: words, count: request.count)
        let data = bits ? buffer.map { $0 != 0 ? "1" : "0" }.joined() : buffer.map { String(format: "%04X", $0) }.joined(separator: " ")
        logger.notice("unit \(config.unitId) fc \(request.table.readFunction) address \(request.address) count \(request.count) -> \(data)",
                      metadata: ["bus": "\(id)"])
    }

    private func execute(_ job: WriteJob) {
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
            let now = clock.now
            let state = devices[job.device]
            for g in state.nextDue.indices { state.nextDue[g] = now }
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
