import Foundation
import GatewayCore
import Logging
import TestSupport
import Testing
@testable import CloudLink

/// The TLS link under outages: a broker that is not there yet, one whose certificate does not
/// verify, and a stop while the link is down. TLS must fail, log, back off and recover like plain
/// MQTT does. Each broker's CA and server certificate are made by `openssl` at test time.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TLSOutageTests {
    /// Backoff short enough to see several attempts in a second or two of real time.
    static let quickBackoff = ReconnectPolicy(initialDelay: .milliseconds(200), maximumDelay: .milliseconds(400))

    /// Attempts a session starts in about `period` of real time, and the time actually measured.
    static func attempts(of session: CloudSession, during period: Duration) async throws -> (Int, Duration) {
        let from = session.statistics.connectAttempts, start = ContinuousClock.now
        try await Task.sleep(for: period)
        return (session.statistics.connectAttempts - from, ContinuousClock.now - start)
    }

    /// The most attempts `quickBackoff` allows in `window`: one per 200 ms, plus the one under way.
    static func maximumAttempts(in window: Duration) -> Int { Int(window / .milliseconds(200)) + 2 }

    /// Once a second attempt has begun: retries over `period` keep to `quickBackoff`, and the
    /// outage is one warning (libmosquitto's own text not among the lines). Returns the attempts,
    /// the time measured and that warning.
    static func backsOffWithOneWarning(_ device: RunningSession, _ log: LogRecorder, during period: Duration,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> (Int, Duration, String?) {
        #expect(await Eventually.wait(timeout: .seconds(20)) { device.session.statistics.connectAttempts >= 2 }, sourceLocation: sourceLocation)
        let (attempts, window) = try await Self.attempts(of: device.session, during: period)
        // At most one attempt per 200 ms wait (a spinning link makes one and never ends it).
        #expect(attempts >= 1 && attempts <= Self.maximumAttempts(in: window), "\(attempts) attempts in \(window)", sourceLocation: sourceLocation)
        let failures = log.lines(containing: "cloud connection failed")
        #expect(failures.count == 1, "\(log.lines)", sourceLocation: sourceLocation)
        #expect(log.lines(containing: "libmosquitto").isEmpty, "\(log.lines)", sourceLocation: sourceLocation)
        return (attempts, window, failures.first)
    }

    @Test func brokerAbsentAtStartFailsOnceBacksOffAndConnectsWhenItComes() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser], tls: true)   // made, not started
        defer { broker.stop() }
        let log = LogRecorder()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .tls(caFile: broker.caFile))
        settings.reconnect = Self.quickBackoff
        let device = RunningSession(CloudSession(settings: settings, logger: log.logger(label: "test.cloud", level: .debug)) { identity.credentials })

        // Nothing listens: every attempt fails at once and the session backs off between them.
        // (Generous timeouts: the whole suite shares two cores.)
        let (attempts, _, failure) = try await Self.backsOffWithOneWarning(device, log, during: .seconds(1))
        #expect(failure?.contains("Connection refused") == true, "\(log.lines)")
        // The link threads did not spin: a busy loop burns about a core for the whole outage.
        #expect(device.session.statistics.linkThreadCPU < .milliseconds(300),
                "link threads used \(device.session.statistics.linkThreadCPU) over \(attempts) attempts")

        let appeared = ContinuousClock.now
        try await broker.start()
        #expect(await Eventually.wait(timeout: .seconds(10)) { device.isConnected() }, "\(log.lines)")
        let reconnectedAfter = ContinuousClock.now - appeared
        #expect(reconnectedAfter < .seconds(5))
        #expect(log.lines(containing: "cloud connected").first?.contains("failed attempts") == true, "\(log.lines)")
        print("TLS outage: \(attempts) attempts, link threads \(device.session.statistics.linkThreadCPU) CPU; connected \(reconnectedAfter) after the broker came up")

        var acks = device.session.acknowledgements().makeAsyncIterator()
        let receipt = try device.session.publish(topic: identity.topic("messages/up"), payload: Array("hello".utf8))
        #expect(await acks.next() == receipt)
        await device.stop()
    }

    @Test func stopWhileDisconnectedReturnsPromptly() async throws {
        let port = FreePort.next()
        let other = try await MosquittoBroker(users: [], tls: true)   // only for a CA file
        let log = LogRecorder()
        // A long backoff is not what is tested: stop in the middle of an attempt and of a wait.
        for stopDuringWait in [false, true] {
            var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(port), transport: .tls(caFile: other.caFile))
            settings.reconnect = ReconnectPolicy(initialDelay: .seconds(30), maximumDelay: .seconds(60))
            let clock = ManualClock()
            let device = RunningSession(CloudSession(settings: settings, clock: clock, logger: log.logger(label: "test.cloud", level: .debug)) { TestIdentity().credentials })
            if stopDuringWait {
                #expect(await Eventually.wait(timeout: .seconds(20)) { clock.sleeperCount == 1 })
            } else {
                #expect(await Eventually.wait(timeout: .seconds(20)) { device.session.statistics.connectAttempts == 1 })
            }
            let started = ContinuousClock.now
            await device.stop()
            let took = ContinuousClock.now - started
            #expect(took < .seconds(2), "stop took \(took)")
            #expect(device.session.state == .disconnected)
            #expect(device.session.statistics.linkThreadCPU < .milliseconds(300), "link threads used \(device.session.statistics.linkThreadCPU)")
            print("TLS stop while disconnected (\(stopDuringWait ? "waiting" : "connecting")): \(took)")
        }
    }

    @Test func stopDuringAStalledHandshakeReturnsPromptly() async throws {
        // A TCP peer that accepts and never answers the ClientHello: the handshake hangs until stop.
        let listener = try SilentListener()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(listener.port), transport: .tls(caFile: nil))
        settings.connectTimeout = .seconds(30)
        let device = RunningSession(CloudSession(settings: settings) { TestIdentity().credentials })
        #expect(await Eventually.wait(timeout: .seconds(20)) { listener.accepted > 0 })
        try await Task.sleep(for: .milliseconds(500))
        let started = ContinuousClock.now
        await device.stop()
        let took = ContinuousClock.now - started
        #expect(took < .seconds(2), "stop took \(took)")
        // The thread waited 0.5 s in the handshake: a loop polling a writable socket burns all of it.
        #expect(device.session.statistics.linkThreadCPU < .milliseconds(100),
                "a stalled handshake used \(device.session.statistics.linkThreadCPU) CPU")
    }

    @Test func wrongCAIsRefusedWithTheCertificateProblemAndBacksOff() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser], tls: true)
        try await broker.start()
        defer { broker.stop() }
        let other = try await MosquittoBroker(users: [], tls: true)
        let log = LogRecorder()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .tls(caFile: other.caFile))
        settings.reconnect = Self.quickBackoff
        let device = RunningSession(CloudSession(settings: settings, logger: log.logger(label: "test.cloud", level: .debug)) { identity.credentials })
        // Retried, but never faster than the 200 ms floor of the backoff.
        let (during, window, failure) = try await Self.backsOffWithOneWarning(device, log, during: .seconds(2))
        #expect(device.session.statistics.connects == 0)
        #expect(failure?.contains("certificate verify failed") == true, "\(log.lines)")
        // The broker sends its own CA along: a root this session does not trust.
        #expect(failure?.contains("self-signed certificate in certificate chain") == true, "\(log.lines)")
        #expect(failure?.contains(other.caFile ?? "?") == true, "\(log.lines)")
        #expect(device.session.statistics.linkThreadCPU < .milliseconds(400), "link threads used \(device.session.statistics.linkThreadCPU)")
        print("TLS wrong CA: \(during) attempts in \(window), link threads \(device.session.statistics.linkThreadCPU) CPU; logged: \(failure ?? "")")
        let started = ContinuousClock.now
        await device.stop()
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser], tls: true)
        try await broker.start()
        defer { broker.stop() }
        // "127.1" reaches the same broker, but its certificate names only 127.0.0.1 and localhost.
        let log = LogRecorder()
        let clock = ManualClock()
        let settings = CloudSessionSettings(host: "127.1", port: Int(broker.port), transport: .tls(caFile: broker.caFile))
        let device = RunningSession(CloudSession(settings: settings, clock: clock, logger: log.logger(label: "test.cloud", level: .debug)) { identity.credentials })
        #expect(await Eventually.wait(timeout: .seconds(20)) { clock.sleeperCount == 1 })
        #expect(device.session.statistics.connects == 0)
        let failure = log.lines(containing: "cloud connection failed").first ?? ""
        #expect(failure.contains("TLS certificate verify failed: hostname mismatch (the broker's certificate does not name 127.1)"), "\(log.lines)")
        await device.stop()
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never writes: a TLS client's
/// handshake stalls on it, as behind a middlebox that lets SYNs through and drops the rest.
final class SilentListener: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let count = Locked(0)
    private let thread: Thread

    var accepted: Int { count.withLock { $0 } }

    init() throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listening, $0, length) == 0 && getsockname(listening, $0, &length) == 0
            }
        }
        guard bound, listen(listening, 8) == 0 else {
            close(listening)
            throw MosquittoBrokerError("cannot listen: \(String(cString: strerror(errno)))")
        }
        fd = listening
        port = UInt16(bigEndian: address.sin_port)
        let count = count
        thread = Thread {
            var peers: [Int32] = []
            while true {
                let peer = accept(listening, nil, nil)
                if peer < 0 { break }
                peers.append(peer)
                count.withLock { $0 += 1 }
            }
            for peer in peers { close(peer) }
        }
        thread.start()
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
