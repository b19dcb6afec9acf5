/// The device's PCP messages, phase by phase (docs/pcp-upgrade.md has the table).
extension PCPUpgradeMachine {
    mutating func received(_ message: PCPMessage, now: C.Instant, into actions: inout [Action]) {
        switch message {
        case .versionReport(let result, let version):
            versionReport(result: result, version: pcpVersion(version), now: now, into: &actions)
        case .newVersionAnswer(let result):
            newVersionAnswer(result, now: now, into: &actions)
        case .fragmentRequest(let targetVersion, let index):
            fragmentRequest(targetVersion: pcpVersion(targetVersion), index: index, now: now, into: &actions)
        case .downloadResult(let status):
            downloadResult(status, now: now, into: &actions)
        case .executeAnswer(let result):
            executeAnswer(result, now: now, into: &actions)
        case .upgradeResult(let result, let version):
            upgradeResult(result: result, version: pcpVersion(version), now: now, into: &actions)
        case .queryVersion, .newVersion, .fragment, .downloadResultAck, .execute, .upgradeResultAck:
            actions.append(.ignored("a platform-side \(message.code.name) message came from the device"))
        }
    }

    private mutating func versionReport(result: PCPResult, version: String, now: C.Instant, into actions: inout [Action]) {
        if result.isSuccess { lastReportedVersion = version }
        guard phase == .queryVersion else {
            actions.append(.ignored("version report \(result) \"\(version)\" outside the version query (\(phase))"))
            return
        }
        if !result.isSuccess {
            failAttempt(result, "the device answered the version query with \(result)",
                        retry: PCPUpgradeRetryPolicy.isTransient(result), now: now, into: &actions)
        } else if version == settings.targetVersion {
            finish(.succeeded, result: .success,
                   description: "the device already runs the target version \(version); no upgrade needed", into: &actions)
        } else {
            enter(.waitForPermit, reason: "device runs \(version), target \(settings.targetVersion); waiting for a start permit",
                  deadline: nil, into: &actions)
            actions.append(.wantsToStart)
        }
    }

    private mutating func newVersionAnswer(_ result: PCPResult, now: C.Instant, into actions: inout [Action]) {
        guard phase == .notified else {
            actions.append(.ignored("new-version answer \(result) outside the notification (\(phase))"))
            return
        }
        if result.isSuccess {
            enter(.downloading, reason: "the device accepted the new version", deadline: nextDeadline, into: &actions)
        } else {
            failAttempt(result, "the device refused the new version: \(result.meaning)",
                        retry: PCPUpgradeRetryPolicy.isTransient(result), now: now, into: &actions)
        }
    }

    private mutating func fragmentRequest(targetVersion: String, index: UInt16, now: C.Instant, into actions: inout [Action]) {
        switch phase {
        case .notified, .downloading, .executing, .waitResult:
            break
        case .waitForDevice, .queryVersion, .waitForPermit, .retryWait, .succeeded, .failed, .cancelled:
            reject(.fragment(result: .noTask, index: index, data: []), now: now, into: &actions)
            return
        }
        // Another version names another package: there is no task for it here (0x80), which
        // tells the module to drop what it holds of that package. 0x81 would claim the package
        // exists and only the index is wrong. Nor is it consent to our version.
        guard targetVersion == settings.targetVersion else {
            reject(.fragment(result: .noTask, index: index, data: []), now: now, into: &actions)
            return
        }
        if phase == .notified {
            // Spec §2.4.2: a fragment request without the 0x14 answer is consent.
            enter(.downloading, reason: "fragment request without a new-version answer: implicit consent",
                  deadline: nextDeadline, into: &actions)
        }
        guard index < settings.fragmentCount else {
            actions.append(.send(.fragment(result: .noSuchFragment, index: index, data: [])))
            return
        }
        actions.append(.serveFragment(index: index))
        if served.insert(Int(index)) { reportProgress(into: &actions) }
    }

    private mutating func reportProgress(into actions: inout [Action]) {
        let count = Int(settings.fragmentCount)
        let percent = served.count == count ? 100 : served.count * 100 / count
        let last = lastProgress ?? 0
        if percent >= last + Self.progressStep || (percent == 100 && lastProgress != 100) {
            lastProgress = percent
            actions.append(.progress(percent))
        }
    }

    private mutating func downloadResult(_ status: PCPResult, now: C.Instant, into actions: inout [Action]) {
        switch phase {
        case .notified, .downloading:
            actions.append(.send(.downloadResultAck(.success)))
            if status.isSuccess {
                actions.append(.send(.execute))
                executeSent = true
                enter(.executing, reason: "download complete (\(served.count) of \(settings.fragmentCount) fragments served); execute sent",
                      deadline: now.advanced(by: PCPUpgradeTimers.upgradeResult), into: &actions)
            } else {
                failAttempt(status, "the device reported the download failed: \(status.meaning)",
                            retry: PCPUpgradeRetryPolicy.isTransient(status), now: now, into: &actions)
            }
        case .executing:
            // The module re-sends 0x16 until it sees 0x17: answer again, execute again.
            actions.append(.send(.downloadResultAck(.success)))
            actions.append(.send(.execute))
        case .waitResult:
            actions.append(.send(.downloadResultAck(.success)))
        case .waitForDevice, .queryVersion, .waitForPermit, .retryWait, .succeeded, .failed, .cancelled:
            reject(.downloadResultAck(.noTask), now: now, into: &actions)
        }
    }

    private mutating func executeAnswer(_ result: PCPResult, now: C.Instant, into actions: inout [Action]) {
        guard phase == .executing, executeSent else {
            actions.append(.ignored("execute answer \(result) without an execute command in this attempt (\(phase))"))
            return
        }
        if result.isSuccess {
            enter(.waitResult, reason: "the device started installing", deadline: nextDeadline, into: &actions)
        } else {
            failAttempt(result, "the device refused to execute the upgrade: \(result.meaning)",
                        retry: PCPUpgradeRetryPolicy.isTransient(result), now: now, into: &actions)
        }
    }

    private mutating func upgradeResult(result: PCPResult, version: String, now: C.Instant, into actions: inout [Action]) {
        let report = PCPUpgradeReport(resultCode: result.rawValue, version: version)
        guard phase == .executing || phase == .waitResult else {
            if report == acknowledgedReport {
                // Our answer was lost and the module asks again: the same answer, no transition.
                actions.append(.send(.upgradeResultAck(.success)))
            } else {
                reject(.upgradeResultAck(.noTask), now: now, into: &actions)
            }
            return
        }
        actions.append(.send(.upgradeResultAck(.success)))
        acknowledgedReport = report
        if !version.isEmpty { lastReportedVersion = version }
        if result.isSuccess && version == settings.targetVersion {
            finish(.succeeded, result: .success, description: "the device runs the target version \(version)", into: &actions)
        } else if result.isSuccess {
            // The device says it installed, but runs another version: the install did not take.
            failAttempt(.installFailed, "the device reported success but runs \"\(version)\" instead of \(settings.targetVersion)",
                        retry: false, now: now, into: &actions)
        } else {
            failAttempt(result, "the device reported the upgrade failed: \(result.meaning)",
                        retry: PCPUpgradeRetryPolicy.isTransient(result), now: now, into: &actions)
        }
    }

    /// A 0x80 answer; the first of a run (no reject in the last `staleRequestQuiet`) is logged.
    private mutating func reject(_ answer: PCPMessage, now: C.Instant, into actions: inout [Action]) {
        let first = lastRejectAt.map { $0.duration(to: now) >= PCPUpgradeTimers.staleRequestQuiet } ?? true
        lastRejectAt = now
        rejectedRequests += 1
        actions.append(.reject(answer, shouldLog: first))
    }
}
