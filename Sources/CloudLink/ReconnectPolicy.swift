/// How long to wait before the next connection attempt: exponential backoff with jitter,
/// and a long pause after the cloud refused our credentials. Pure: the session measures
/// time on its injected clock and feeds outcomes in; tests feed outcomes and random values.
public struct ReconnectPolicy: Sendable, Equatable {
    /// First wait after a failure.
    public static let defaultInitialDelay: Duration = .seconds(1)
    /// Ceiling of the exponential backoff.
    public static let defaultMaximumDelay: Duration = .seconds(60)
    /// Wait after CONNACK "bad username or password" / "not authorized" / "identifier
    /// rejected": retrying sooner cannot help, and a hot loop looks like an attack.
    public static let defaultRefusedDelay: Duration = .seconds(300)
    /// A connection that stayed up this long resets the backoff; a shorter one counts as a failure,
    /// so a link that the cloud drops right after CONNACK backs off too.
    public static let stableConnection: Duration = .seconds(60)
    /// Share of the delay that jitter may take away, so gateways restarted together spread out.
    public static let jitterFraction = 0.5
    /// Share of the refused delay that jitter may take away.
    public static let refusedJitterFraction = 0.2

    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var refusedDelay: Duration
    /// Failures in a row since the last stable connection.
    public private(set) var consecutiveFailures = 0

    public init(initialDelay: Duration = Self.defaultInitialDelay, maximumDelay: Duration = Self.defaultMaximumDelay,
                refusedDelay: Duration = Self.defaultRefusedDelay) {
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
        self.refusedDelay = refusedDelay
    }

    /// The wait before the next attempt. `random` is uniform in 0..<1 (the session passes
    /// `Double.random(in: 0..<1)`); values outside are clamped.
    public mutating func delay(after outcome: ConnectionOutcome, random: Double) -> Duration {
        let r = min(max(random, 0), 1)
        switch outcome {
        case .refused(let code) where code.isPermanent:
            consecutiveFailures += 1
            return refusedDelay * (1 - Self.refusedJitterFraction * r)
        case .lost(let connectedFor) where connectedFor >= Self.stableConnection:
            consecutiveFailures = 1
        case .refused, .lost, .failed, .credentialsUnavailable:
            consecutiveFailures += 1
        }
        let exponent = min(consecutiveFailures - 1, 30)
        var base = initialDelay * Double(1 << exponent)
        if base > maximumDelay { base = maximumDelay }
        return max(initialDelay, base * (1 - Self.jitterFraction * r))
    }
}

/// How one connection attempt ended.
public enum ConnectionOutcome: Sendable, Equatable {
    /// The broker answered CONNACK with a refusal.
    case refused(ConnackCode)
    /// No CONNACK: TCP, TLS or DNS failed, or the connect timed out.
    case failed(reason: String)
    /// Connected, then the link dropped after this long.
    case lost(connectedFor: Duration)
    /// The credentials provider failed (e.g. secret file unreadable).
    case credentialsUnavailable
}

/// MQTT 3.1.1 CONNACK return codes, as the platform documents them (spec §1.3).
public enum ConnackCode: Int32, Sendable, Equatable, CaseIterable {
    case accepted = 0
    case unacceptableProtocolVersion = 1
    case identifierRejected = 2
    case serverUnavailable = 3
    case badUsernameOrPassword = 4
    case notAuthorized = 5

    /// Refusals that retrying with the same configuration cannot fix: back off long.
    public var isPermanent: Bool {
        switch self {
        case .accepted, .serverUnavailable: false
        case .unacceptableProtocolVersion, .identifierRejected, .badUsernameOrPassword, .notAuthorized: true
        }
    }

    /// What an operator should check, for the log line.
    public func diagnosis(timestampChecked: Bool) -> String {
        switch self {
        case .accepted:
            return "connection accepted"
        case .unacceptableProtocolVersion:
            return "the server does not accept MQTT 3.1.1"
        case .identifierRejected:
            return "client id rejected: check the device id (ClientId format {device_id}_0_{sign_type}_{YYYYMMDDHH}) and that keepalive is within 30-1200 s"
        case .serverUnavailable:
            return "the platform says it is unavailable; retrying with backoff"
        case .badUsernameOrPassword, .notAuthorized:
            let what = self == .notAuthorized ? "not authorized" : "bad username or password"
            if timestampChecked {
                return "\(what): the device secret is wrong, or the gateway clock is off (sign type 1 checks the UTC hour in the ClientId; check NTP)"
            }
            return "\(what): the device secret or device id is wrong (reset the secret on the console and update the secret file)"
        }
    }
}
