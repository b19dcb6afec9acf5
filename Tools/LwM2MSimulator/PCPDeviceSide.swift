import Crypto
import PCP

/// The device side of PCP for one simulated module (spec lwm2m-coap §2.4, §2.6), as a state
/// machine: it takes the platform's messages, the clock, power loss and the module's Observe, and
/// returns actions for the simulator to carry out. Pure: no socket, no clock of its own.
///
/// Fragments are requested one by one in index order, so the module holds a prefix of the
/// package: it keeps that prefix's length and a running SHA-256 (and the bytes if asked), and a
/// resumed download asks for the first fragment it misses.
struct PCPDeviceSide<Instant: InstantProtocol> where Instant.Duration == Duration {
    enum Action: Equatable {
        /// Send this frame up (a notification of the observed data resource).
        case send(PCPMessage)
        case event(PCPDeviceEvent)
        /// Reboot: the session vanishes and the module registers anew.
        case reboot
        /// Power off: the session goes silent (nothing sent, nothing answered).
        case powerOff
        /// Power back on: a new session and a Register.
        case powerOn
    }

    let personality: PCPPersonality
    private(set) var currentVersion: String

    /// The package being downloaded (or downloaded, or installed).
    private struct Download {
        var notice: PCPNewVersion
        var held = 0
        var byteCount = 0
        var hasher = SHA256()
        var bytes: [UInt8]?
        var stopped = false
    }
    private var download: Download?

    private enum Phase: Equatable {
        case idle
        case downloading
        /// 0x16 sent; waiting for 0x17.
        case downloaded
        case installing(until: Instant)
        /// Rebooted after the install: 0x18 goes up once observed.
        case reporting(result: PCPResult, version: String)
    }
    private var phase = Phase.idle

    /// The request in flight and when it is sent again.
    private struct Outstanding {
        var message: PCPMessage
        var retriesLeft: Int
        var due: Instant
    }
    private var outstanding: Outstanding?
    private var downloadResultResend: (due: Instant, left: Int)?
    private var spontaneousExecuteAnswerDue: Instant?
    private var powered = true
    private var powerLossArmed: Bool
    private var powerRestoreDue: Instant?

    init(personality: PCPPersonality) {
        self.personality = personality
        currentVersion = personality.softwareVersion
        powerLossArmed = personality.powerLoss != nil
    }

    /// Fragments held of the current package (0 without one).
    var fragmentsHeld: Int { download?.held ?? 0 }

    // MARK: Events

    mutating func received(_ message: PCPMessage, at now: Instant) -> [Action] {
        guard powered else { return [] }
        var actions = frameEvent(.received, message)
        switch message {
        case .queryVersion:
            actions += send(.versionReport(result: .success, version: currentVersion))
            actions.append(.event(.versionReported(currentVersion)))
        case .newVersion(let notice):
            actions += newVersion(notice, at: now)
        case .fragment(let result, let index, let data):
            actions += fragment(result: result, index: index, data: data, at: now)
        case .downloadResultAck(let result):
            if case .downloadResult = outstanding?.message { outstanding = nil }
            if result == .noTask {
                downloadResultResend = nil
                if phase == .downloaded { phase = .idle }
            }
        case .execute:
            actions += execute(at: now)
        case .upgradeResultAck:
            if case .upgradeResult = outstanding?.message {
                outstanding = nil
                phase = .idle
                download = nil
            }
        case .versionReport, .newVersionAnswer, .fragmentRequest, .downloadResult, .executeAnswer, .upgradeResult:
            break   // the module's own messages: not addressed to it
        }
        return actions
    }

    /// The server observes the data resource (after a Register): what waited for it goes up.
    mutating func observed(at now: Instant) -> [Action] {
        guard powered else { return [] }
        switch phase {
        case .reporting(let result, let version):
            return request(.upgradeResult(result: result, version: version), at: now)
        case .downloading where outstanding == nil:
            guard let download, !download.stopped else { return [] }
            return [.event(.progress(held: download.held, count: Int(download.notice.fragmentCount)))]
                + requestNextFragment(at: now)
        default:
            return []
        }
    }

    /// Power cut (the simulator's `powerLoss`): nothing in flight survives but the fragments held.
    mutating func powerLost() -> [Action] {
        guard powered else { return [] }
        powered = false
        outstanding = nil
        downloadResultResend = nil
        spontaneousExecuteAnswerDue = nil
        return [.powerOff, .event(.powerLost(held: fragmentsHeld))]
    }

    /// Power is back (the simulator registers the module anew; `observed` resumes the download).
    mutating func powerRestored() -> [Action] {
        powerRestoreDue = nil
        guard !powered else { return [] }
        powered = true
        return [.event(.powerRestored)]
    }

    mutating func tick(at now: Instant) -> [Action] {
        var actions: [Action] = []
        if let due = powerRestoreDue, due <= now {
            actions += powerRestored() + [.powerOn]
        }
        guard powered else { return actions }
        if let pending = outstanding, pending.due <= now {
            if pending.retriesLeft > 0 {
                outstanding = Outstanding(message: pending.message, retriesLeft: pending.retriesLeft - 1,
                                          due: now.advanced(by: personality.fragmentRetryInterval))
                actions += send(pending.message)
            } else {
                outstanding = nil
                if case .upgradeResult = pending.message {
                    phase = .idle
                    download = nil
                } else if case .fragmentRequest = pending.message, personality.reconnectWhenUnanswered {
                    // Still downloading: `observed` asks for the first missing fragment again. A
                    // new port (the old session still holds its unanswered requests in libcoap).
                    actions += [.event(.serverLost(held: fragmentsHeld)), .powerOff, .powerOn]
                } else if case .fragmentRequest = pending.message {
                    download?.stopped = true
                    phase = .idle
                    actions.append(.event(.downloadStopped(.downloadTimeout)))
                    actions += send(.downloadResult(.downloadTimeout))
                }
            }
        }
        if let resend = downloadResultResend, resend.due <= now {
            downloadResultResend = resend.left > 1 ? (now.advanced(by: personality.downloadResultResendInterval ?? .seconds(1)), resend.left - 1) : nil
            actions += send(.downloadResult(.success))
        }
        if let due = spontaneousExecuteAnswerDue, due <= now {
            spontaneousExecuteAnswerDue = nil
            actions += send(.executeAnswer(.success))
        }
        if case .installing(let until) = phase, until <= now {
            let succeeded = personality.upgradeResult.isSuccess
            let target = download?.notice.targetVersion ?? currentVersion
            let version = personality.reportedVersion ?? (succeeded ? target : currentVersion)
            if succeeded { currentVersion = version }
            phase = .reporting(result: personality.upgradeResult, version: version)
            actions += [.event(.upgraded(version: currentVersion)), .reboot]
        }
        return actions
    }

    // MARK: Messages

    private mutating func newVersion(_ notice: PCPNewVersion, at now: Instant) -> [Action] {
        guard personality.newVersionAnswer.isSuccess else {
            return send(.newVersionAnswer(personality.newVersionAnswer)) + [.event(.refused(personality.newVersionAnswer))]
        }
        var actions = send(.newVersionAnswer(.success))
        // The same package again (a resumed task): keep what is held. Otherwise start over.
        if download?.notice != notice {
            download = Download(notice: notice, bytes: personality.keepPackage ? [] : nil)
        }
        download?.stopped = false
        phase = .downloading
        outstanding = nil
        actions.append(.event(.progress(held: fragmentsHeld, count: Int(notice.fragmentCount))))
        return actions + requestNextFragment(at: now)
    }

    private mutating func fragment(result: PCPResult, index: UInt16, data: [UInt8], at now: Instant) -> [Action] {
        guard phase == .downloading, var current = download,
              case .fragmentRequest(_, let asked) = outstanding?.message, asked == index else {
            return []   // a late duplicate, or no download: the module ignores it
        }
        guard result.isSuccess else {
            outstanding = nil
            phase = .idle
            download?.stopped = true
            if result == .noTask { return [.event(.downloadStopped(result))] }
            // 0x81 (or any other refusal): the package cannot be completed; the module drops it and
            // reports the download as failed, so the platform's task ends in a defined state.
            download = nil
            return [.event(.downloadStopped(result))] + send(.downloadResult(.verificationFailed))
        }
        let size = Int(current.notice.fragmentSize)
        let count = Int(current.notice.fragmentCount)
        let isLast = Int(index) == count - 1
        guard data.count == size || isLast && (1...size).contains(data.count) else {
            return []   // a fragment of the wrong size: the retry asks again
        }
        outstanding = nil
        current.hasher.update(data: data)
        current.bytes?.append(contentsOf: data)
        current.byteCount += data.count
        current.held += 1
        download = current
        var actions: [Action] = [.event(.progress(held: current.held, count: count))]
        if powerLossArmed, let loss = personality.powerLoss, current.held >= loss.afterFragments, current.held < count {
            powerLossArmed = false
            actions += powerLost()
            if let after = loss.restoreAfter { powerRestoreDue = now.advanced(by: after) }
            return actions
        }
        return actions + requestNextFragment(at: now)
    }

    private mutating func requestNextFragment(at now: Instant) -> [Action] {
        guard let current = download else { return [] }
        if current.held < Int(current.notice.fragmentCount) {
            return request(.fragmentRequest(targetVersion: current.notice.targetVersion, index: UInt16(current.held)), at: now)
        }
        phase = .downloaded
        let digest = Array(current.hasher.finalize())
        var actions: [Action] = [.event(.downloaded(sha256: digest, package: current.bytes))]
        if let interval = personality.downloadResultResendInterval {
            actions += send(.downloadResult(.success))
            downloadResultResend = (now.advanced(by: interval), PCPPersonality.maxDownloadResultResends)
        } else {
            actions += request(.downloadResult(.success), at: now)
        }
        if let after = personality.spontaneousExecuteAnswerAfter { spontaneousExecuteAnswerDue = now.advanced(by: after) }
        return actions
    }

    private mutating func execute(at now: Instant) -> [Action] {
        switch phase {
        case .downloaded:
            downloadResultResend = nil
            if case .downloadResult = outstanding?.message { outstanding = nil }
            if personality.executeAnswer.isSuccess { phase = .installing(until: now.advanced(by: personality.installTime)) }
            return send(.executeAnswer(personality.executeAnswer))
        case .installing:
            return send(.executeAnswer(.success))   // a repeated 0x17: the same answer
        default:
            // Nothing downloaded to install: the module is busy with something else.
            return send(.executeAnswer(.deviceInUse))
        }
    }

    // MARK: Helpers

    private mutating func request(_ message: PCPMessage, at now: Instant) -> [Action] {
        outstanding = Outstanding(message: message, retriesLeft: personality.fragmentRetries,
                                  due: now.advanced(by: personality.fragmentRetryInterval))
        return send(message)
    }

    private func send(_ message: PCPMessage) -> [Action] {
        [.send(message)] + frameEvent(.sent, message)
    }

    private func frameEvent(_ direction: PCPDeviceEvent.Direction, _ message: PCPMessage) -> [Action] {
        personality.reportFrames ? [.event(.frame(direction, message))] : []
    }
}

extension PCPDeviceEvent {
    /// The SHA-256 `downloaded` reports, over whole bytes (for a test to compare with what it served).
    public static func sha256(of bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
