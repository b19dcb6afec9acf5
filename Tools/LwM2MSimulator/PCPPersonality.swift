import PCP

// The PCP device side of a simulated module (spec lwm2m-coap §2): what it is configured to do,
// and what it reports. `PCPDeviceSide` is the state machine; the simulator carries its frames on
// the data channel (downlink writes in, notifications of the observed resource out).

/// How a simulated module behaves toward the platform's upgrade protocol. The defaults are a
/// well-behaved module with short timers for tests.
public struct PCPPersonality: Sendable, Equatable {
    /// The software version the module runs (reported in 0x13 and, after a failed upgrade, 0x18).
    public var softwareVersion: String
    /// The answer to a 0x14 new-version notification: `.success` allows the upgrade, anything
    /// else (`.deviceInUse`, `.lowBattery`, …) refuses it.
    public var newVersionAnswer: PCPResult
    /// A fragment request (0x15) without an answer is sent again after this long (real modules:
    /// 2–30 s)…
    public var fragmentRetryInterval: Duration
    /// …this many times; then the module reports the download as timed out (0x16 with 0x06) and
    /// keeps what it holds. The 0x16 (when not re-sent until 0x17) and the 0x18 are retried the
    /// same way until the platform answers them.
    public var fragmentRetries: Int
    /// Re-send 0x16 at this interval until 0x17 arrives (what LiteOS modules do), at most
    /// `maxDownloadResultResends` times; nil: 0x16 is a request like any other, retried until answered.
    public var downloadResultResendInterval: Duration?
    /// A quirk some modules show: a 0x17 answer sent on the module's own timer this long after the
    /// 0x16, whether or not the platform sent 0x17.
    public var spontaneousExecuteAnswerAfter: Duration?
    /// The answer to the platform's 0x17 (`.success` starts the install).
    public var executeAnswer: PCPResult
    /// How long "installing" takes after 0x17; then the module reboots (re-registers) and sends 0x18.
    public var installTime: Duration
    /// The result reported in 0x18.
    public var upgradeResult: PCPResult
    /// The version reported in 0x18; nil: the target version after a success, the old one otherwise.
    public var reportedVersion: String?
    /// Power loss mid-download: see `PowerLoss`. Fires once.
    public var powerLoss: PowerLoss?
    /// Keep the assembled package's bytes (tests compare them); otherwise the module keeps only
    /// the count of fragments held and a running SHA-256 (what a load run needs: a few hundred
    /// bytes per module).
    public var keepPackage: Bool
    /// Report every PCP frame sent and received as an event (`.frame`); off for load runs.
    public var reportFrames: Bool
    /// A fragment request still unanswered after its retries means the server is gone (the
    /// gateway restarted and lost the DTLS session): the module opens a new session, registers,
    /// and resumes from the first fragment it misses once observed, as an LwM2M client whose
    /// server stops answering does. Off: it reports a download timeout (0x16 with 0x06).
    public var reconnectWhenUnanswered: Bool

    public static let maxDownloadResultResends = 60

    public init(softwareVersion: String, newVersionAnswer: PCPResult = .success,
                fragmentRetryInterval: Duration = .seconds(1), fragmentRetries: Int = 5,
                downloadResultResendInterval: Duration? = nil, spontaneousExecuteAnswerAfter: Duration? = nil,
                executeAnswer: PCPResult = .success, installTime: Duration = .milliseconds(200),
                upgradeResult: PCPResult = .success, reportedVersion: String? = nil,
                powerLoss: PowerLoss? = nil, keepPackage: Bool = true, reportFrames: Bool = true,
                reconnectWhenUnanswered: Bool = false) {
        self.softwareVersion = softwareVersion
        self.newVersionAnswer = newVersionAnswer
        self.fragmentRetryInterval = fragmentRetryInterval
        self.fragmentRetries = fragmentRetries
        self.downloadResultResendInterval = downloadResultResendInterval
        self.spontaneousExecuteAnswerAfter = spontaneousExecuteAnswerAfter
        self.executeAnswer = executeAnswer
        self.installTime = installTime
        self.upgradeResult = upgradeResult
        self.reportedVersion = reportedVersion
        self.powerLoss = powerLoss
        self.keepPackage = keepPackage
        self.reportFrames = reportFrames
        self.reconnectWhenUnanswered = reconnectWhenUnanswered
    }

    /// The module loses power once it holds `afterFragments` fragments: its session goes silent
    /// (as in PSM), the fragments stay in its "flash". When power comes back (after `restoreAfter`,
    /// or when the test calls `wake`/`powerOn`) it registers anew and, once observed, requests the
    /// first fragment it misses (resumable download, spec §2.4.3).
    public struct PowerLoss: Sendable, Equatable {
        public var afterFragments: Int
        public var restoreAfter: Duration?
        public init(afterFragments: Int, restoreAfter: Duration? = nil) {
            self.afterFragments = afterFragments
            self.restoreAfter = restoreAfter
        }
    }
}

/// What a simulated module's PCP side reports (`NBIoTDeviceSimulator.Event.pcp`).
public enum PCPDeviceEvent: Sendable, Equatable {
    public enum Direction: Sendable, Equatable {
        /// Platform → module (a downlink write).
        case received
        /// Module → platform (a notification).
        case sent
    }

    /// A PCP frame, either way.
    case frame(Direction, PCPMessage)
    /// The module answered 0x13 with this version.
    case versionReported(String)
    /// The module answered 0x14 with a refusal.
    case refused(PCPResult)
    /// Fragments held of the package's count (after each fragment, and when a download resumes).
    case progress(held: Int, count: Int)
    /// Every fragment is in: the package's SHA-256, and its bytes when `keepPackage` is set.
    case downloaded(sha256: [UInt8], package: [UInt8]?)
    /// The download ended without a package: 0x80 (no task), 0x81 (no such fragment), or
    /// 0x06 (the module gave up after its retries).
    case downloadStopped(PCPResult)
    /// Power went off mid-download (fragments held) or came back.
    case powerLost(held: Int)
    case powerRestored
    /// A fragment request went unanswered through its retries: the module reconnects.
    case serverLost(held: Int)
    /// The install finished: the module now runs `version` and reboots.
    case upgraded(version: String)
}
