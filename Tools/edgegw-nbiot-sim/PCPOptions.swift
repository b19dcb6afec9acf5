import ArgumentParser
import LwM2MSimulator
import PCP

/// The PCP device side of the simulated modules (software upgrades, spec lwm2m-coap §2).
struct PCPOptions: ParsableArguments {
    @Option(help: "Software version the module runs; gives it the PCP device side (answers 0x13, downloads on 0x14, installs on 0x17).")
    var swVersion: String?
    @Option(help: "Answer 0x14 with this refusal code instead of allowing the upgrade (e.g. 4 = low battery).")
    var refuseUpgrade: UInt8?
    @Option(help: "Seconds before an unanswered fragment request (0x15) is sent again.") var fragmentRetryInterval: Double = 1
    @Option(help: "Times an unanswered request is sent again; then the download is reported as timed out.") var fragmentRetries = 5
    @Option(help: "Re-send 0x16 every this many seconds until 0x17 arrives (LiteOS behaviour); 0 = once, retried until answered.")
    var resendDownloadResult: Double = 0
    @Option(help: "Send a 0x17 answer on the module's own timer this many seconds after 0x16 (a module quirk); 0 = never.")
    var spontaneousExecuteAnswer: Double = 0
    @Option(help: "Seconds the install takes after 0x17 (then the module reboots and sends 0x18).") var installTime: Double = 0.2
    @Option(help: "Result code reported in 0x18.") var upgradeResult: UInt8 = 0
    @Option(help: "Version reported in 0x18 (default: the target version after a success).") var reportedVersion: String?
    @Option(help: "Lose power once this many fragments are held (resumes from the first missing one when power is back).")
    var powerLossAfter: Int?
    @Option(help: "Seconds without power after --power-loss-after.") var powerRestoreAfter: Double = 5
    @Flag(help: "Report every PCP frame sent and received as an event.") var pcpFrames = false
    @Flag(help: "When a fragment request stays unanswered after its retries, open a new session, register and resume (a module whose server went away); otherwise report a download timeout.")
    var reconnectWhenUnanswered = false

    func personality(keepPackage: Bool = false) -> PCPPersonality? {
        guard let swVersion else { return nil }
        return PCPPersonality(
            softwareVersion: swVersion,
            newVersionAnswer: refuseUpgrade.map { PCPResult($0) } ?? .success,
            fragmentRetryInterval: .seconds(fragmentRetryInterval), fragmentRetries: fragmentRetries,
            downloadResultResendInterval: resendDownloadResult > 0 ? .seconds(resendDownloadResult) : nil,
            spontaneousExecuteAnswerAfter: spontaneousExecuteAnswer > 0 ? .seconds(spontaneousExecuteAnswer) : nil,
            installTime: .seconds(installTime), upgradeResult: PCPResult(upgradeResult), reportedVersion: reportedVersion,
            powerLoss: powerLossAfter.map { .init(afterFragments: $0, restoreAfter: .seconds(powerRestoreAfter)) },
            keepPackage: keepPackage, reportFrames: pcpFrames, reconnectWhenUnanswered: reconnectWhenUnanswered)
    }

    func validate() throws {
        if let swVersion, swVersion.utf8.count > PCPLimits.versionBytes || swVersion.isEmpty {
            throw ValidationError("--sw-version must have 1 to \(PCPLimits.versionBytes) ASCII characters (PCP's version field)")
        }
        guard fragmentRetryInterval > 0, fragmentRetries >= 0, installTime >= 0 else {
            throw ValidationError("--fragment-retry-interval must be > 0, --fragment-retries and --install-time >= 0")
        }
    }
}
