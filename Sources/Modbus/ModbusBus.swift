import CoreMetrics
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
    var health: DeviceHealth<GatewayClock.Instant>.Policy
    var trace: Bool
    /// Time from sending a request to its answer (data or exception): `responseTimeMetric`.
    var responseTime: CoreMetrics.Timer = CoreMetrics.Timer(label: ModbusBus.responseTimeMetric, factory: NOOPMetricsHandler.instance)
    /// Where the bus's frames go while `edgegw trace modbus` follows it.
    var tap: TraceTap?
    /// An RTU bus's turns on its serial port, shared with the serial devices on the same port.
    var line: SerialLineArbiter?
}

/// All devices on one serial port or one TCP address: one thread (libmodbus blocks), one
/// request at a time, writes ahead of reads. What to read when (`PollSchedule`), the pause
/// between requests (`RequestPacing`) and what to decode (`RegisterChangeDetector`) are decided
/// by pure parts on the injected clock; the thread executes them (ModbusBusCycle.swift,
/// ModbusBusRequests.swift).
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
        var health: [FieldHealthState]
        var trace: Bool
    }

    /// The histogram of answer times, one series per bus (`bus` label).
    public static let responseTimeMetric = "edgegw_modbus_response_seconds"

    let id: ModbusBusID
    let transport: ModbusTransport
    let settings: ModbusBusSettings
    let deviceConfigs: [ModbusDeviceConfig]
    let stats: Locked<Stats>
    let logger: Logger
    let onEvent: @Sendable (ModbusBusEvent) -> Void
    let clock: GatewayClock

    // Shared, behind `condition`.
    private let condition = MonotonicCondition()
    private var writeQueue: [WriteJob] = []
    private var stopping = false
    private var traceWanted: Bool
    private var started = false
    private var finished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    // Bus thread.
    let devices: [ModbusBusDevice]
    var schedule: PollSchedule<GatewayClock.Instant>
    var pacing: RequestPacing<GatewayClock.Instant>
    var connection: ModbusConnection?
    var traceOn = false
    var cycleGoodReads = 0
    var cycleItemsRead = 0
    /// Time the cycle in progress spent waiting for answers that did not come.
    var cycleSilence: Duration = .zero
    /// RTU: the last request failed, so what arrives on the line until the next request is noise
    /// (a babbling slave, a late answer): the input is flushed again right before it is sent.
    var flushBeforeNextRequest = false
    let registerBuffer = UnsafeMutablePointer<UInt16>.allocate(capacity: ModbusLimits.maxReadRegisters)
    let bitBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: ModbusLimits.maxReadBits)

    init(id: ModbusBusID, transport: ModbusTransport, devices: [ModbusDeviceConfig], settings: ModbusBusSettings,
         clock: GatewayClock, logger: Logger, onEvent: @escaping @Sendable (ModbusBusEvent) -> Void) {
        self.id = id
        self.transport = transport
        self.settings = settings
        self.deviceConfigs = devices
        self.clock = clock
        self.logger = logger
        self.onEvent = onEvent
        self.traceWanted = settings.trace
        let states = devices.map(ModbusBusDevice.init(config:))
        self.devices = states
        self.schedule = PollSchedule(groups: states.map { state in
            zip(state.config.pollGroups, state.plans).map { (interval: $0.interval, hasReads: !$1.isEmpty) }
        }, health: settings.health, now: clock.now)
        self.pacing = RequestPacing(delay: settings.interRequestDelay)
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

    /// Asks the thread to stop once the cycle in flight has ended (a libmodbus transaction is
    /// never cut; the cycle's values are still reported); queued writes fail with `.stopped`.
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
            guard let next = schedule.next() else {
                wait(until: nil)
                continue
            }
            if next.at <= clock.now {
                runCycle(device: next.device, group: next.group)
            } else {
                wait(until: next.at)
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

    /// Sleeps until `due` on the injected clock (the condition variable waits on the monotonic
    /// clock: for the system clock an instant's offset maps 1:1 onto it, and a wall clock set back
    /// cannot stretch the wait), a write, a trace switch or a stop.
    private func wait(until due: GatewayClock.Instant?) {
        condition.lock()
        if !stopping, writeQueue.isEmpty, traceWanted == traceOn {
            if let due {
                let left = clock.now.duration(to: due)
                if left > .zero { condition.wait(timeout: left) }
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

    /// Writes waiting while a cycle runs go between its reads.
    func drainWrites() {
        while true {
            condition.lock()
            let job = writeQueue.isEmpty ? nil : writeQueue.removeFirst()
            condition.unlock()
            guard let job else { return }
            execute(job)
        }
    }
}
