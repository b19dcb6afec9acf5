import Foundation
import Glibc
import GatewayCore
import Logging
import SerialFraming

/// One serial port and the devices on it: one thread that owns the port, reads whatever comes
/// (frames found by the port's `Framer`, decoded by the product codec), and runs one
/// transaction at a time — the cloud's commands first, then the polls `SerialPollPlan` says
/// are due — with the line's inter-frame silence between them and, on a port shared with the
/// Modbus master, a turn from its `SerialLineArbiter` around each.
///
/// State marked "line thread" is touched only by that thread; the rest is behind locks.
final class SerialLine: @unchecked Sendable {
    let path: String
    let settings: SerialPortSettings
    let devices: [SerialDeviceConfig]
    let decoder: any UplinkPayloadHandler
    let clock: GatewayClock
    let logger: Logger
    let emit: @Sendable (SerialLineEvent) -> Void
    /// Present when Modbus RTU devices use the same port.
    let arbiter: SerialLineArbiter?
    let frameEncoder: FrameEncoder
    let interFrameDelay: Duration
    let stats: Locked<SerialPortStats>

    struct Shared {
        var jobs: [SerialJob] = []
        var stopping = false
        var mid: UInt16 = 0
    }

    let shared = Locked(Shared())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = Locked<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    // Line thread.
    var port: SerialPort?
    var framer: Framer<GatewayClock.Instant>
    var plan: SerialPollPlan<GatewayClock.Instant>
    var pending: SerialTransaction?
    /// When the line last fell quiet: a transaction ended or a byte came.
    var quietSince: GatewayClock.Instant
    var lastByte: GatewayClock.Instant?
    /// Unsolicited devices: when each was last heard.
    var heard: [Int: GatewayClock.Instant] = [:]
    /// The status last reported per device (nil: none yet).
    var reported: [Int: ChildStatus] = [:]
    var reopenAt: GatewayClock.Instant
    var reopenBackoff = SerialLine.firstReopenDelay
    var openFailures = 0
    var everOpened = false
    var frameLog = LogRateLimit<GatewayClock.Instant>(perWindow: 5, window: .seconds(60))
    var openLog = LogRateLimit<GatewayClock.Instant>(perWindow: 1, window: .seconds(60))
    /// The poll request of each polled device, framed once.
    let pollRequests: [Int: [UInt8]]
    let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: SerialLine.readSize, alignment: 1)

    static let readSize = 4096
    static let firstReopenDelay: Duration = .seconds(1)
    static let maxReopenDelay: Duration = .seconds(30)
    /// How often the thread looks at the clock when nothing else is due (silence checks, stop).
    static let idleWake: Duration = .milliseconds(500)

    init(path: String, devices: [SerialDeviceConfig], decoder: any UplinkPayloadHandler, encoder: any DownlinkEncoder,
         arbiter: SerialLineArbiter?, policy: DeviceHealth<GatewayClock.Instant>.Policy, clock: GatewayClock,
         logger: Logger, emit: @escaping @Sendable (SerialLineEvent) -> Void) {
        let first = devices[0]
        self.path = path
        self.settings = first.port
        self.devices = devices
        self.decoder = decoder
        self.clock = clock
        self.logger = logger
        self.emit = emit
        self.arbiter = arbiter
        let frameEncoder = FrameEncoder(spec: first.framing)
        self.frameEncoder = frameEncoder
        interFrameDelay = first.interFrameDelay
        let gap = first.framing.gapChars.map { first.port.line.characterTime * $0 }
        framer = Framer(spec: first.framing, gap: gap)
        let now = clock.now
        quietSince = now
        reopenAt = now
        plan = SerialPollPlan(devices: devices.indices.compactMap { i in devices[i].poll.map { (i, $0.interval) } },
                              start: now, policy: policy)
        for i in devices.indices where devices[i].poll == nil { heard[i] = now }
        stats = Locked(SerialPortStats(port: path, open: false, sharedWithModbus: arbiter != nil, counters: SerialPortCounters(),
                                       devices: Dictionary(devices.map { ($0.nodeId, SerialDeviceCounters()) },
                                                           uniquingKeysWith: { a, _ in a })))
        var fds: [Int32] = [0, 0]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        } else {
            fds = [-1, -1]
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        pollRequests = Self.pollRequests(devices, encoder: encoder, frameEncoder: frameEncoder, path: path, logger: logger)
    }

    /// Each polled device's request, framed once; a request the codec cannot encode is logged
    /// and the device is not polled.
    private static func pollRequests(_ devices: [SerialDeviceConfig], encoder: any DownlinkEncoder, frameEncoder: FrameEncoder,
                                     path: String, logger: Logger) -> [Int: [UInt8]] {
        var requests: [Int: [UInt8]] = [:]
        for i in devices.indices {
            guard let poll = devices[i].poll else { continue }
            switch poll.request {
            case .bytes(let bytes):
                requests[i] = bytes
            case .command(let name):
                let command = ChildCommand(requestId: "poll", nodeId: devices[i].nodeId, serviceId: nil, commandName: name, paras: [:])
                do {
                    let payload = try encoder.encodeCommand(command, productId: devices[i].productId, mid: 0)
                    requests[i] = try frameEncoder.encode(payload: payload, address: devices[i].address)
                } catch {
                    logger.error("\(devices[i].nodeId): its poll request \(name) cannot be encoded: \(error); the device is not polled",
                                 metadata: ["port": "\(path)"])
                }
            }
        }
        return requests
    }

    deinit {
        readBuffer.deallocate()
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    func start() {
        let thread = Thread { [self] in
            run()
            let waiters = finished.withLock { state in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        // Linux keeps 15 bytes of a thread's name: the port's last path component.
        thread.name = "serial " + String((path as NSString).lastPathComponent.suffix(8))
        thread.start()
    }

    /// Ends the transaction in flight (up to its deadline), answers what is queued, closes the port.
    func finish() async {
        shared.withLock { $0.stopping = true }
        wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    /// Queues a transaction for the cloud; the line answers through its completion.
    func enqueue(_ job: SerialJob) {
        let accepted = shared.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        guard accepted else { return job.completion(.failed(.internalError, "the gateway is stopping")) }
        wake()
    }

    /// The next command's `mid`: 1 … 65535, then 1 again (the codec's rule).
    func nextMid() -> UInt16 {
        shared.withLock { state in
            state.mid = state.mid == UInt16.max ? 1 : state.mid + 1
            return state.mid
        }
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    var stopping: Bool { shared.withLock { $0.stopping } }

    // MARK: - The line thread

    private func run() {
        logger.info("serial port \(path): \(devices.count) device(s)",
                    metadata: ["line": "\(settings.line.summary)", "shared_with_modbus": "\(arbiter != nil)"])
        while true {
            let now = clock.now
            if stopping && pending == nil { break }
            if port == nil, now >= reopenAt { openPort(at: now) }
            guard port != nil else {
                answerQueued(.failed(.deviceUnreachable, "serial port \(path) is not open"))
                waitForInput(until: stopping ? now : reopenAt)
                continue
            }
            checkDeadlines(at: now)
            if pending == nil, !stopping { startNext(at: now) }
            waitForInput(until: nextWake(after: clock.now))
        }
        answerQueued(.failed(.internalError, "the gateway is stopping"))
        port = nil
        stats.withLock { $0.open = false }
        logger.info("serial port \(path) closed", metadata: counterMetadata())
    }

    /// When the thread must look again: a transaction's deadline, a frame's silence, a poll due.
    private func nextWake(after now: GatewayClock.Instant) -> GatewayClock.Instant {
        var wake = now.advanced(by: Self.idleWake)
        if let deadline = pending?.deadline { wake = min(wake, deadline) }
        if let silence = framer.silenceDeadline { wake = min(wake, silence) }
        if pending == nil, let due = plan.next()?.at { wake = min(wake, max(due, quietSince.advanced(by: interFrameDelay))) }
        return max(wake, now)
    }

    /// Waits for bytes or a wake-up until `deadline`; reads and frames what came.
    private func waitForInput(until deadline: GatewayClock.Instant) {
        let timeout = clock.now.duration(to: deadline)
        var entries = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        // On a port shared with the Modbus master, the line reads only in its own turn: between
        // turns the bytes on the wire are the master's answers.
        if let port, arbiter == nil || pending != nil { entries.append(pollfd(fd: port.fd, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&entries, nfds_t(entries.count), Int32(max(0, min(timeout.milliseconds, 60_000))))
        if ready > 0, entries[0].revents != 0 { drainWakeups() }
        if entries.count > 1, entries[1].revents != 0 {
            readAvailable()
            // Hung up with nothing left to read: the adapter is gone.
            if port != nil, entries[1].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                portLost(.lost(path: path, errno: 0))
            }
            // Bytes came: whether a silence followed is for the next poll to say, not the clock
            // after the time spent framing them.
            return
        }
        if port != nil, let silence = framer.silenceDeadline, clock.now >= silence {
            handle(framer.silence(at: clock.now))
        }
    }

    private func drainWakeups() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &sink, sink.count) > 0 {}
    }

    private func readAvailable() {
        guard let port else { return }
        do {
            // Bounded, so a babbling device cannot keep the thread from its deadlines.
            for _ in 0..<16 {
                let count = try port.read(into: readBuffer, capacity: Self.readSize)
                guard count > 0 else { return }
                // A silence is one the thread saw: poll(2) waiting until the framer's deadline
                // with nothing to read (waitForInput). Bytes found on return from framing the
                // last read came while it was busy, so they are read as continuing it: a pty or
                // a USB adapter hands a burst over in pieces, and the time spent framing one
                // piece is no silence on the wire.
                let now = clock.now
                lastByte = now
                quietSince = now
                stats.withLock { $0.counters.bytesReceived += count }
                var bytes = UnsafeRawBufferPointer(start: readBuffer, count: count)
                bytes = dropEcho(bytes)
                if !bytes.isEmpty { handle(framer.receive(bytes, at: now, contiguous: true)) }
                syncFramerCounters()
            }
        } catch {
            portLost(error)
        }
    }

    /// A 2-wire adapter's echo of what was just written is not the device speaking.
    private func dropEcho(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard var transaction = pending, !transaction.echo.isEmpty else { return bytes }
        var matched = 0
        while matched < bytes.count, let expected = transaction.echo.first {
            guard bytes[matched] == expected else {
                stats.withLock { $0.counters.echoMismatches += 1 }
                transaction.echo = []
                break
            }
            transaction.echo = transaction.echo.dropFirst()
            matched += 1
        }
        pending = transaction
        if transaction.echo.isEmpty, transaction.awaited == .nothing { endTransaction(.written, at: clock.now) }
        return UnsafeRawBufferPointer(rebasing: bytes[matched...])
    }

    func counterMetadata() -> Logger.Metadata {
        let c = stats.withLock { $0.counters }
        return ["frames": "\(c.framing.frames)", "checksum_failures": "\(c.framing.checksumFailures)", "resyncs": "\(c.framing.resyncs)",
                "timeouts": "\(c.timeouts)", "lost": "\(c.lost)"]
    }
}
