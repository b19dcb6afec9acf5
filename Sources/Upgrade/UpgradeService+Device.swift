import Foundation
import GatewayCore
import IoTDA
import Logging
import PCP

/// What the field side says of a device, and the machines' actions carried out.
extension UpgradeService {
    public func deviceReported(nodeId: String) async {
        lastContact[nodeId] = clock.now
        await contact(nodeId, event: .deviceReported)
    }

    public func pcpFrame(_ frame: [UInt8], nodeId: String) async {
        lastContact[nodeId] = clock.now
        let message: PCPMessage
        switch PCPCodec.decode(frame, from: .device) {
        case .success(let decoded):
            message = decoded
        case .failure(let error):
            counters.decodeFailures += 1
            if let held = decodeLog.admit(at: clock.now) {
                logger.warning("\(nodeId): PCP frame not readable: \(error)\(held > 0 ? " (\(held) more not logged)" : "")",
                               metadata: ["node": "\(nodeId)"])
            }
            return
        }
        switch message {
        case .versionReport(let result, let version) where result.isSuccess:
            await learnVersion(nodeId, version)
        case .upgradeResult(_, let version) where !trimmed(version).isEmpty:
            await learnVersion(nodeId, version)
        default:
            break
        }
        guard tasks[nodeId]?.machine != nil else {
            await answerWithoutTask(message, nodeId: nodeId)
            return
        }
        await contact(nodeId, event: .received(message))
    }

    public func radioConditions(_ conditions: RadioConditions, nodeId: String) async {
        fanOut.updateRadio(conditions, for: nodeId)
    }

    /// The device is in contact: the event goes to its machine, then what waited for contact
    /// (a permit granted while it slept, a request that could not be delivered) goes out.
    func contact(_ nodeId: String, event: Machine.Event) async {
        if versionQueryUnsent.contains(nodeId), versionQueries[nodeId] != nil {
            if await send(.queryVersion, to: nodeId) { versionQueryUnsent.remove(nodeId) }
        }
        guard tasks[nodeId]?.machine != nil else { return }
        // Only what was undelivered before this contact is sent again: a request this event
        // could not deliver waits for the next one (no loop while the device is unreachable).
        let pending = tasks[nodeId]?.undelivered
        tasks[nodeId]?.undelivered = nil
        await dispatch(event, to: nodeId, inContact: true)
        guard let task = tasks[nodeId], task.isActive, let phase = task.machine?.phase else { return }
        if task.permitDue, phase == .waitForPermit {
            tasks[nodeId]?.permitDue = false
            await dispatch(.startPermitted, to: nodeId, inContact: true)
        } else if let request = pending, task.undelivered == nil {
            let stillDue: Bool
            switch request {
            case .queryVersion: stillDue = phase == .queryVersion
            case .newVersion: stillDue = phase == .notified
            case .execute: stillDue = phase == .executing
            default: stillDue = false
            }
            if stillDue { await sendForTask(request, to: nodeId) }
        }
    }

    /// A device request with no task: 0x80, the first of a run logged.
    func answerWithoutTask(_ message: PCPMessage, nodeId: String) async {
        guard let answer = message.noTaskAnswer else { return }
        let now = clock.now
        let first = noTaskRejectAt[nodeId].map { $0.duration(to: now) >= PCPUpgradeTimers.staleRequestQuiet } ?? true
        noTaskRejectAt[nodeId] = now
        counters.rejects += 1
        if first {
            logger.info("\(nodeId): \(message.code.name) without an upgrade task; answered 0x80 (repeats are not logged)",
                        metadata: ["node": "\(nodeId)"])
        }
        _ = await send(answer, to: nodeId)
    }

    func learnVersion(_ nodeId: String, _ raw: String) async {
        let version = trimmed(raw)
        guard !version.isEmpty else { return }
        knownVersions[nodeId] = version
        if versionQueries.removeValue(forKey: nodeId) != nil {
            versionQueryUnsent.remove(nodeId)
            await reportVersion(nodeId: nodeId, version)
        }
    }

    func reportVersion(nodeId: String, _ version: String) async {
        let kind = lastKind[nodeId] ?? .software
        let report = kind == .firmware ? VersionReport(knownSoftware: nil, firmware: version)
                                       : VersionReport(knownSoftware: version, firmware: nil)
        logger.info("\(nodeId): version_report \(kind.rawValue) \(version)", metadata: ["node": "\(nodeId)"])
        await reporter.versionReport(nodeId: nodeId, report)
    }

    func trimmed(_ version: String) -> String {
        var scalars = version.unicodeScalars[...]
        while let last = scalars.last, last == "\u{0}" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    // MARK: - Actions

    /// Hands one event to the child's machine and carries out its actions.
    func dispatch(_ event: Machine.Event, to nodeId: String, inContact: Bool) async {
        guard var machine = tasks[nodeId]?.machine else { return }
        let actions = machine.handle(event, now: clock.now)
        tasks[nodeId]?.machine = machine
        await perform(actions, nodeId: nodeId, inContact: inContact)
    }

    func perform(_ actions: [Machine.Action], nodeId: String, inContact: Bool) async {
        var changed = false
        for action in actions {
            switch action {
            case .send(let message):
                await sendForTask(message, to: nodeId)
            case .serveFragment(let index):
                await serveFragment(nodeId: nodeId, index: index)
            case .reject(let answer, let shouldLog):
                counters.rejects += 1
                if shouldLog {
                    logger.info("\(nodeId): request outside the running task; answered \(answer.code.name) 0x80 (repeats are not logged)",
                                metadata: ["node": "\(nodeId)"])
                }
                _ = await send(answer, to: nodeId)
            case .wantsToStart:
                await wantsToStart(nodeId, inContact: inContact)
            case .progress(let percent):
                changed = true
                await reporter.progress(nodeId: nodeId, UpgradeProgress(
                    resultCode: .success, progress: percent, version: knownVersions[nodeId] ?? ""))
            case .finished(let result, let version, let description):
                await finished(nodeId: nodeId, result: result, version: version, description: description)
                return
            case .schedule(let deadline):
                wake(at: deadline)
            case .log(let transition):
                changed = true
                logger.info("\(nodeId): \(transition)", metadata: ["node": "\(nodeId)", "attempt": "\(transition.attempt)"])
            case .ignored(let why):
                logger.debug("\(nodeId): \(why)", metadata: ["node": "\(nodeId)"])
            }
        }
        await releaseIfIdle(nodeId)
        if changed { await persist(nodeId) }
    }

    /// A task that fell back to waiting for its device (a failed attempt) gives its slot back.
    func releaseIfIdle(_ nodeId: String) async {
        guard let task = tasks[nodeId], task.permitted, let phase = task.machine?.phase else { return }
        switch phase {
        case .waitForDevice, .queryVersion, .retryWait:
            tasks[nodeId]?.permitted = false
            tasks[nodeId]?.permitDue = false
            await grant(fanOut.release(nodeId), inContact: nil)
        default:
            break
        }
    }

    func wantsToStart(_ nodeId: String, inContact: Bool) async {
        if tasks[nodeId]?.permitted == true {
            await dispatch(.startPermitted, to: nodeId, inContact: inContact)
            return
        }
        let admitted = fanOut.request(nodeId)
        if !admitted.contains(nodeId) {
            let placement = fanOut.placement(of: nodeId)
            logger.info("\(nodeId): waiting for a download slot (\(fanOut.running.count) of \(fanOut.globalCap) running, \(fanOut.runningCount(in: placement.group)) of \(placement.cap) in \(placement.group))",
                        metadata: ["node": "\(nodeId)"])
        }
        await grant(admitted, inContact: inContact ? nodeId : nil)
    }

    /// Devices the fan-out admitted: the one in contact starts now, the others on their next report.
    func grant(_ admitted: [String], inContact: String?) async {
        for nodeId in admitted {
            guard tasks[nodeId]?.isActive == true else { _ = fanOut.release(nodeId); continue }
            tasks[nodeId]?.permitted = true
            if nodeId == inContact {
                await dispatch(.startPermitted, to: nodeId, inContact: true)
            } else {
                tasks[nodeId]?.permitDue = true
                logger.info("\(nodeId): download slot granted; the new version goes out when the device next reports",
                            metadata: ["node": "\(nodeId)"])
                await persist(nodeId)
            }
        }
    }

    func finished(nodeId: String, result: PCPResult, version: String?, description: String) async {
        await end(nodeId: nodeId, result: result, description: description, version: version, logTransition: false)
    }

    /// Ends a child's task: the final report, the slot freed, the record removed.
    func end(nodeId: String, result: PCPResult, description: String, version: String? = nil, logTransition: Bool = true) async {
        guard var task = tasks[nodeId], task.isActive else { return }
        if logTransition {
            let from = task.machine.map { "\($0.phase)" } ?? "PREPARING"
            logger.info("\(nodeId): PCP upgrade \(from) → FAILED: \(result): \(description)", metadata: ["node": "\(nodeId)"])
        }
        if var machine = task.machine, !machine.phase.isTerminal {
            // Ended from outside the machine (its package became unusable): the machine is
            // closed too, so the device's further requests get 0x80 instead of silence.
            _ = machine.handle(.cancel(.withdrawn), now: clock.now)
            task.machine = machine
        }
        task.endedAt = clock.now
        task.permitted = false
        task.permitDue = false
        task.undelivered = nil
        tasks[nodeId] = task
        let current = version ?? knownVersions[nodeId] ?? ""
        let code = UpgradeResultCode(rawValue: result.iotdaResultCode) ?? .internalError
        let text = String(description.prefix(OTALimits.maxDescriptionCharacters))
        if result.isSuccess {
            counters.succeeded += 1
            logger.info("\(nodeId): upgrade finished: result 0, version \(current): \(description)", metadata: ["node": "\(nodeId)"])
        } else {
            counters.failed += 1
            logger.warning("\(nodeId): upgrade failed: result \(code.rawValue) (\(result.meaning)), version \(current.isEmpty ? "unknown" : current): \(description)",
                           metadata: ["node": "\(nodeId)"])
        }
        await reporter.progress(nodeId: nodeId, UpgradeProgress(
            resultCode: code, progress: result.isSuccess ? 100 : nil, version: current, description: text))
        await store.remove(nodeId: nodeId)
        await grant(fanOut.release(nodeId), inContact: nil)
    }

    // MARK: - Frames and fragments

    /// Sends a task's frame; a request the device could not get waits for its next report.
    func sendForTask(_ message: PCPMessage, to nodeId: String) async {
        if await send(message, to: nodeId) { return }
        switch message {
        case .queryVersion, .newVersion, .execute: tasks[nodeId]?.undelivered = message
        default: break
        }
    }

    func send(_ message: PCPMessage, to nodeId: String) async -> Bool {
        let frame: [UInt8]
        do {
            frame = try PCPCodec.encode(message)
        } catch {
            logger.error("\(nodeId): cannot encode \(message.code.name): \(error)", metadata: ["node": "\(nodeId)"])
            return false
        }
        let sent = await downlink.sendPCP(frame, nodeId: nodeId)
        if !sent {
            counters.sendFailures += 1
            logger.debug("\(nodeId): \(message.code.name) not delivered (device not reachable); waiting for its next report",
                         metadata: ["node": "\(nodeId)"])
        }
        return sent
    }

    /// Serves now when the site's budget allows, else at the instant it does (never dropped; a
    /// request already waiting is not queued twice).
    func serveFragment(nodeId: String, index: UInt16) async {
        let key = "\(nodeId)#\(index)"
        guard !delayedKeys.contains(key) else { return }
        let now = clock.now
        let due = budget.reserve(now: now)
        if due <= now {
            await sendFragment(nodeId: nodeId, index: index)
        } else {
            counters.fragmentsDelayed += 1
            delayedKeys.insert(key)
            delayed.append(DelayedFragment(due: due, nodeId: nodeId, index: index))
            wake(at: due)
        }
    }

    func sendFragment(nodeId: String, index: UInt16) async {
        guard let task = tasks[nodeId], task.isActive, let identity = task.package, let machine = task.machine else { return }
        let size = machine.settings.fragmentSize
        guard let data = await packages.fragment(identity: identity, index: Int(index), size: size) else {
            counters.fragmentReadFailures += 1
            if let held = readLog.admit(at: clock.now) {
                logger.error("\(nodeId): fragment \(index) of package \(identity) cannot be read; left unanswered\(held > 0 ? " (\(held) more not logged)" : "")",
                             metadata: ["node": "\(nodeId)"])
            }
            return
        }
        if await send(.fragment(result: .success, index: index, data: data), to: nodeId) {
            counters.fragmentsServed += 1
            counters.bytesServed += data.count
            logger.debug("\(nodeId): fragment \(index) served (\(data.count) bytes)", metadata: ["node": "\(nodeId)"])
        }
    }
}
