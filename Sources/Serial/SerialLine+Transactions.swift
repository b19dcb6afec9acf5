import Foundation
import GatewayCore
import Logging
import SerialFraming

/// Transactions on the line thread: what goes out next, the answer matched to it, timeouts,
/// and the devices' status.
extension SerialLine {
    /// Starts the queued command or the poll that is due, if the line is quiet long enough.
    func startNext(at now: GatewayClock.Instant) {
        // Never talk over a device that is still sending (an unsolicited report in progress).
        guard now >= quietSince.advanced(by: interFrameDelay) else { return lineNeverQuiet(at: now) }
        let job: SerialJob? = shared.withLock { state in state.jobs.isEmpty ? nil : state.jobs.removeFirst() }
        if let job {
            guard job.deadline > now else { return job.completion(.timeout) }
            send(job.bytes, device: job.device, origin: .job(job), awaited: job.awaited, deadline: job.deadline, at: now)
            return
        }
        guard let due = plan.next(), due.at <= now else { return }
        plan.started(device: due.device, at: now)
        guard let request = pollRequests[due.device], let poll = devices[due.device].poll else { return }
        send(request, device: due.device, origin: .poll, awaited: .report, deadline: now.advanced(by: poll.responseTimeout), at: now)
    }

    /// A device that babbles without pause keeps the line from ever falling quiet: polls that
    /// waited longer than their response timeout fail (the polled device is not answering
    /// either), and commands fail at their deadline instead of waiting for ever.
    private func lineNeverQuiet(at now: GatewayClock.Instant) {
        // Only bytes that kept coming since the poll fell due count (not the quiet wait after a reopen).
        if let due = plan.next(), let poll = devices[due.device].poll, due.at.advanced(by: poll.responseTimeout) <= now,
           let lastByte, lastByte > due.at {
            plan.started(device: due.device, at: now)
            stats.withLock {
                $0.counters.timeouts += 1
                $0.devices[devices[due.device].nodeId]?.timeouts += 1
            }
            logFrameProblem("\(devices[due.device].nodeId): not polled, the line never fell quiet for \(interFrameDelay.milliseconds) ms")
            apply(plan.failed(device: due.device, at: now), device: due.device)
        }
        let expired = shared.withLock { state in
            let (late, waiting) = (state.jobs.filter { $0.deadline <= now }, state.jobs.filter { $0.deadline > now })
            state.jobs = waiting
            return late
        }
        for job in expired { job.completion(.timeout) }
    }

    private func send(_ bytes: [UInt8], device: Int, origin: SerialTransaction.Origin, awaited: SerialJob.Awaited,
                      deadline: GatewayClock.Instant, at now: GatewayClock.Instant) {
        guard let port else { return }
        if let arbiter {
            guard arbiter.acquire(quietTime: interFrameDelay, timeout: now.duration(to: deadline)) else {
                if case .job(let job) = origin { job.completion(.timeout) }
                return
            }
            // The Modbus master's leftovers are not this device's answer.
            port.discardInput()
            _ = framer.reset()
        }
        var transaction = SerialTransaction(device: device, origin: origin, awaited: awaited, deadline: deadline,
                                            echo: settings.echo ? bytes[...] : [])
        if awaited == .nothing {
            // Only the echo to drop: as long as the bytes take on the wire, and a little more.
            let onWire = settings.line.characterTime * (bytes.count + 4) + .milliseconds(20)
            transaction.deadline = settings.echo ? now.advanced(by: onWire) : now
        }
        pending = transaction
        stats.withLock {
            $0.counters.requests += 1
            $0.counters.bytesSent += bytes.count
            $0.devices[devices[device].nodeId]?.requests += 1
        }
        do {
            try port.write(bytes, timeout: .seconds(2))
        } catch {
            return portLost(error)
        }
        if awaited == .nothing {
            if case .job(let job) = origin { job.completion(.written) }
            if !settings.echo { endTransaction(nil, at: clock.now) }
        }
    }

    /// Ends the transaction in flight: its job is answered with `outcome` (nil: already answered).
    func endTransaction(_ outcome: SerialJob.Outcome?, at now: GatewayClock.Instant) {
        guard let transaction = pending else { return }
        pending = nil
        quietSince = now
        arbiter?.release()
        if let outcome, case .job(let job) = transaction.origin, transaction.awaited != .nothing { job.completion(outcome) }
    }

    func checkDeadlines(at now: GatewayClock.Instant) {
        if let transaction = pending, now >= transaction.deadline {
            if transaction.awaited == .nothing {
                endTransaction(nil, at: now)
            } else {
                let device = transaction.device
                stats.withLock {
                    $0.counters.timeouts += 1
                    $0.devices[devices[device].nodeId]?.timeouts += 1
                }
                if devices[device].poll != nil, case .poll = transaction.origin {
                    apply(plan.failed(device: device, at: now), device: device)
                }
                endTransaction(.timeout, at: now)
            }
        }
        for (device, last) in heard where reported[device] != .offline {
            let silence = devices[device].silenceBeforeOffline
            if last.duration(to: now) >= silence {
                logger.warning("\(devices[device].nodeId) sent nothing for \(silence): OFFLINE", metadata: ["port": "\(path)"])
                report(.offline, device: device)
            }
        }
    }

    /// Answers every queued job with `outcome` (the port is closed, or the gateway stops).
    func answerQueued(_ outcome: SerialJob.Outcome) {
        let jobs = shared.withLock { state in
            defer { state.jobs = [] }
            return state.jobs
        }
        for job in jobs { job.completion(outcome) }
    }

    // MARK: - Frames

    func handle(_ events: [FramerEvent]) {
        for event in events {
            switch event {
            case .frame(let frame): received(frame)
            case .rejected(let rejection): logFrameProblem("frame rejected: \(rejection)")
            case .discarded: break
            }
        }
        syncFramerCounters()
    }

    private func received(_ frame: ReceivedFrame) {
        let now = clock.now
        guard let device = route(frame) else {
            stats.withLock { $0.counters.unknownAddress += 1 }
            return logFrameProblem("a frame for address \(frame.address.map(String.init) ?? "?") that no device on this port has")
        }
        let config = devices[device]
        stats.withLock { $0.devices[config.nodeId]?.frames += 1 }
        deviceAnswered(device, at: now)
        switch decoder.decodeUplink(nodeId: config.nodeId, productId: config.productId, payload: Array(frame.payload)) {
        case .report(let services, let response):
            emit(.report(nodeId: config.nodeId, services: services, time: clock.wallTime()))
            if let transaction = pending, transaction.device == device, transaction.awaited == .report {
                endTransaction(.report(services), at: now)
            }
            if let response, let bytes = try? frameEncoder.encode(payload: response, address: config.address) {
                acknowledge(bytes, device: device, at: now)
            }
        case .commandResponse(let mid, let success, let paras):
            if let transaction = pending, transaction.device == device, transaction.awaited == .commandResponse(mid: mid) {
                endTransaction(.commandResponse(success: success, paras: paras), at: now)
            } else {
                logFrameProblem("\(config.nodeId): a command response (mid \(mid)) no command waits for")
            }
        case .undecodable(let reason):
            stats.withLock { $0.counters.undecodable += 1 }
            logFrameProblem("\(config.nodeId): a frame its product's codec cannot decode: \(reason)")
            if let transaction = pending, transaction.device == device, transaction.awaited == .report {
                endTransaction(.failed(.deviceError, "the device's answer cannot be decoded: \(reason)"), at: now)
            }
        }
    }

    /// Sends the product's report response: a transaction of its own (its echo dropped, its turn
    /// taken on a shared port), unless another is on the wire; then it goes out as it is.
    private func acknowledge(_ bytes: [UInt8], device: Int, at now: GatewayClock.Instant) {
        guard pending == nil else {
            do { try port?.write(bytes, timeout: .seconds(1)) } catch { portLost(error) }
            return
        }
        send(bytes, device: device, origin: .acknowledgement, awaited: .nothing, deadline: now, at: now)
    }

    /// The device a frame is from: by its address byte, or the port's only device.
    private func route(_ frame: ReceivedFrame) -> Int? {
        guard let address = frame.address else { return devices.count == 1 ? 0 : pending?.device }
        return devices.firstIndex { $0.address == address }
    }

    private func deviceAnswered(_ device: Int, at now: GatewayClock.Instant) {
        if devices[device].poll != nil {
            apply(plan.answered(device: device, at: now), device: device)
        } else {
            heard[device] = now
            if reported[device] != .online { report(.online, device: device) }
        }
    }

    func apply(_ action: DeviceHealth<GatewayClock.Instant>.Action?, device: Int) {
        switch action {
        case .reportOnline: report(.online, device: device)
        case .reportOffline:
            logger.warning("\(devices[device].nodeId) does not answer: OFFLINE, retried with backoff", metadata: ["port": "\(path)"])
            report(.offline, device: device)
        case nil: break
        }
    }

    func report(_ status: ChildStatus, device: Int) {
        guard reported[device] != status else { return }
        reported[device] = status
        let nodeId = devices[device].nodeId
        stats.withLock { $0.devices[nodeId]?.status = status == .online ? .online : .offline }
        emit(.status(nodeId: nodeId, status: status, time: clock.wallTime()))
    }

    func syncFramerCounters() {
        let counters = framer.counters
        stats.withLock { $0.counters.framing = counters }
    }

    func logFrameProblem(_ message: String) {
        guard let held = frameLog.admit(at: clock.now) else { return }
        logger.warning("\(message)", metadata: ["port": "\(path)"].merging(
            held > 0 ? ["suppressed": "\(held)"] : [:], uniquingKeysWith: { a, _ in a }))
    }

    // MARK: - The port's life

    func openPort(at now: GatewayClock.Instant) {
        var rs485Unsupported = false
        // Opening sets the port's termios and flushes it: on a shared port, not in the middle of
        // the Modbus master's transaction.
        if let arbiter, !arbiter.acquire(timeout: .seconds(5)) {
            reopenAt = now.advanced(by: Self.firstReopenDelay)
            return
        }
        defer { arbiter?.release() }
        do {
            port = try SerialPort(path: path, line: settings.line, rs485: settings.rs485, rs485Unsupported: &rs485Unsupported)
        } catch {
            openFailures += 1
            if let held = openLog.admit(at: now) {
                logger.warning("\(error); retrying", metadata: ["attempts": "\(openFailures)", "suppressed": "\(held)"])
            }
            if openFailures == 1 { markAllOffline(at: now) }
            reopenAt = now.advanced(by: reopenBackoff)
            reopenBackoff = min(reopenBackoff * 2, Self.maxReopenDelay)
            return
        }
        if rs485Unsupported {
            logger.warning("\(path) has no RS-485 mode (TIOCSRS485 refused): used as it is; an automatic-direction adapter needs none")
        }
        if everOpened { stats.withLock { $0.counters.reopened += 1 } }
        logger.info(everOpened || openFailures > 0 ? "serial port \(path) is back" : "serial port \(path) open",
                    metadata: openFailures > 0 ? ["after_attempts": "\(openFailures)"] : [:])
        everOpened = true
        openFailures = 0
        reopenBackoff = Self.firstReopenDelay
        quietSince = now
        handle(framer.reset())
        stats.withLock { $0.open = true }
    }

    /// The port vanished (USB adapter unplugged) or failed: close it, answer what waits,
    /// mark every device OFFLINE, and reopen it when it returns.
    func portLost(_ error: SerialPortError) {
        let now = clock.now
        logger.warning("\(error): its devices are OFFLINE until it returns", metadata: ["port": "\(path)"])
        port = nil
        stats.withLock {
            $0.open = false
            $0.counters.lost += 1
        }
        handle(framer.reset())
        endTransaction(.failed(.deviceUnreachable, "serial port \(path) was lost"), at: now)
        markAllOffline(at: now)
        openFailures = 0
        reopenBackoff = Self.firstReopenDelay
        reopenAt = now.advanced(by: reopenBackoff)
    }

    private func markAllOffline(at now: GatewayClock.Instant) {
        for (device, action) in plan.portLost(at: now) { _ = action; report(.offline, device: device) }
        for device in heard.keys { report(.offline, device: device) }
    }
}
