import Foundation
import GatewayCore
import IoTDA
import Logging
import PCP

/// The service's life: restore, one timer for the earliest deadline, graceful finish, storage.
extension UpgradeService {
    /// Restores stored tasks (once), then sleeps on the clock until the earliest deadline (a
    /// machine's timer, a delayed fragment, a version query) or until an event brings one closer.
    /// Returns after `finish()` or when cancelled.
    public func run() async {
        if !restored { await restore() }
        while !finishing && !Task.isCancelled {
            let deadline = earliestDeadline() ?? clock.now.advanced(by: .seconds(3600))
            let clock = self.clock
            let sleep = Task { _ = try? await clock.sleep(until: deadline) }
            sleeper = sleep
            sleepingUntil = deadline
            await withTaskCancellationHandler {
                await sleep.value
            } onCancel: {
                sleep.cancel()
            }
            sleeper = nil
            sleepingUntil = nil
            if finishing || Task.isCancelled { break }
            await tick()
        }
    }

    /// Graceful stop: every running task is stored as it is now, and `run()` returns.
    public func finish() async {
        finishing = true
        for nodeId in tasks.keys where tasks[nodeId]?.isActive == true { await persist(nodeId) }
        sleeper?.cancel()
        let counters = status()
        logger.info("upgrade service stopped: \(counters)")
    }

    /// Brings the run loop's sleep forward when a deadline is earlier than the one it sleeps to.
    func wake(at deadline: GatewayClock.Instant) {
        guard let sleepingUntil, deadline < sleepingUntil else { return }
        sleeper?.cancel()
    }

    func earliestDeadline() -> GatewayClock.Instant? {
        var earliest = delayed.first?.due
        func consider(_ instant: GatewayClock.Instant?) {
            guard let instant else { return }
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        for task in tasks.values where task.isActive { consider(task.machine?.nextDeadline) }
        for due in versionQueries.values { consider(due) }
        return earliest
    }

    /// Does what is due now: delayed fragments, machine timers, expired version queries, and
    /// forgets ended tasks past their retention. `run()` calls it; tests call it after moving the clock.
    public func tick() async {
        let now = clock.now
        while let first = delayed.first, first.due <= now {
            delayed.removeFirst()
            delayedKeys.remove("\(first.nodeId)#\(first.index)")
            await sendFragment(nodeId: first.nodeId, index: first.index)
        }
        for (nodeId, task) in tasks where task.isActive {
            if let deadline = task.machine?.nextDeadline, deadline <= now {
                await dispatch(.timer, to: nodeId, inContact: false)
            }
        }
        for (nodeId, due) in versionQueries where due <= now {
            versionQueries[nodeId] = nil
            versionQueryUnsent.remove(nodeId)
            logger.warning("\(nodeId): no version known and no answer to the version query within \(OTALimits.versionReportWindow); version_report not sent",
                           metadata: ["node": "\(nodeId)"])
        }
        for (nodeId, task) in tasks {
            if let ended = task.endedAt, ended.duration(to: now) >= Self.endedRetention { tasks[nodeId] = nil }
        }
        for (nodeId, at) in lastContact where at.duration(to: now) > Self.recentContact {
            lastContact[nodeId] = nil
        }
        for (nodeId, at) in noTaskRejectAt where at.duration(to: now) >= PCPUpgradeTimers.staleRequestQuiet {
            noTaskRejectAt[nodeId] = nil
        }
    }

    // MARK: - Storage

    func persist(_ nodeId: String) async {
        guard let task = tasks[nodeId], task.isActive else { return }
        let record = UpgradeTaskRecord(
            notice: StoredNotice(task.notice), fragmentSize: task.fragmentSize, checkCode: task.checkCode,
            package: task.package, packageSize: task.packageSize, snapshot: task.machine?.snapshot(now: clock.now),
            permitted: task.permitted, savedAt: clock.wallTime())
        await store.save(nodeId: nodeId, record)
    }

    /// Takes up every stored task: the machine as it was, its timers advanced by the wall time the
    /// gateway was down, its download slot kept; the package is asked for again (the cache has it).
    /// Nothing is sent: a downloading device gets its next fragment without a second notification.
    @discardableResult
    public func restore() async -> Int {
        guard !restored else { return 0 }
        restored = true
        let records = await store.loadAll()
        let now = clock.now
        let wall = clock.wallTime()
        var count = 0
        for (nodeId, record) in records.sorted(by: { $0.key < $1.key }) {
            guard record.format == 1, let notice = record.notice.notice else {
                logger.error("\(nodeId): stored upgrade task unreadable (format \(record.format)); dropped", metadata: ["node": "\(nodeId)"])
                await store.remove(nodeId: nodeId)
                continue
            }
            // A notice that came while the records were read has made a newer task.
            if tasks[nodeId]?.isActive == true { continue }
            generation += 1
            // Taken now: notices may run (and count on) while this loop awaits.
            let taskGeneration = generation
            var task = UpgradeTask(notice: notice, fragmentSize: record.fragmentSize, checkCode: record.checkCode, generation: taskGeneration)
            task.package = record.package
            task.packageSize = record.packageSize
            lastKind[nodeId] = notice.kind
            if let snapshot = record.snapshot {
                let elapsed = Duration.seconds(max(0, wall.timeIntervalSince(record.savedAt)))
                do {
                    task.machine = try Machine(restoring: snapshot, now: now, elapsed: elapsed)
                } catch {
                    logger.error("\(nodeId): stored upgrade task cannot be restored: \(error)", metadata: ["node": "\(nodeId)"])
                    tasks[nodeId] = task
                    await end(nodeId: nodeId, result: .internalError, description: "the upgrade task could not be restored after a restart: \(error)")
                    continue
                }
                if let version = snapshot.lastReportedVersion { knownVersions[nodeId] = version }
            }
            tasks[nodeId] = task
            count += 1
            if let machine = task.machine {
                if machine.phase.isTerminal {
                    tasks[nodeId] = nil
                    await store.remove(nodeId: nodeId)
                    continue
                }
                switch machine.phase {
                case .notified, .downloading, .executing, .waitResult:
                    fanOut.occupy(nodeId)
                    tasks[nodeId]?.permitted = true
                case .waitForPermit:
                    if record.permitted {
                        fanOut.occupy(nodeId)
                        tasks[nodeId]?.permitted = true
                        tasks[nodeId]?.permitDue = true
                    } else {
                        await grant(fanOut.request(nodeId), inContact: nil)
                    }
                default:
                    break
                }
                logger.info("\(nodeId): PCP upgrade restored in \(machine.phase) (attempt \(machine.attempt)), \(machine.served.count) of \(machine.settings.fragmentCount) fragments served",
                            metadata: ["node": "\(nodeId)", "attempt": "\(machine.attempt)"])
            } else {
                logger.info("\(nodeId): PCP upgrade restored in PREPARING; fetching the package", metadata: ["node": "\(nodeId)"])
            }
            startPreparation(nodeId: nodeId, notice: notice, generation: taskGeneration)
        }
        // Deadlines that passed while the gateway was down are handled at once.
        await tick()
        return count
    }
}
