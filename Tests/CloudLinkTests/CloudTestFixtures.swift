import Foundation
import GatewayCore
import IoTDA
import Logging
import TestSupport
@testable import CloudLink

/// A gateway identity for tests: device id, a generated secret and a pinned hour, so the
/// broker's password file (made for that hour) matches what the session sends.
struct TestIdentity: Sendable {
    var deviceId = "edgegw_test_gateway"
    var secret = "s" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    var hour = "2026112215"
    var signType = 0

    /// The platform's rule: ClientId {device}_0_{sign}_{hour}, password = hex HMAC-SHA256(key: hour, message: secret).
    var credentials: CloudCredentials {
        CloudCredentials(clientId: "\(deviceId)_0_\(signType)_\(hour)", username: deviceId,
                         password: HMACSHA256.hex(key: hour, message: secret), timestampChecked: signType == 1)
    }

    var brokerUser: MosquittoBroker.User { .init(name: deviceId, password: credentials.password) }

    func topic(_ suffix: String) -> String { "$oc/devices/\(deviceId)/sys/\(suffix)" }
}

/// The platform side of a test: a session as a privileged user that records every
/// message the gateway publishes.
final class PlatformRecorder: Sendable {
    static let password = "platform-" + UUID().uuidString
    static var user: MosquittoBroker.User { .platform(password: password) }

    let session: CloudSession
    private let received = Locked<[CloudMessage]>([])
    private let task: Task<Void, Never>
    private let consumer: Task<Void, Never>

    init(port: UInt16, transport: CloudSessionSettings.Transport = .plain) {
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(port), transport: transport,
                                            subscriptions: ["$oc/devices/+/sys/#"])
        settings.reconnect = ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200))
        session = CloudSession(settings: settings, logger: Logger(label: "test.platform")) {
            CloudCredentials(clientId: "platform-recorder-\(UUID().uuidString.prefix(8))", username: "platform",
                             password: PlatformRecorder.password)
        }
        let session = session
        let received = received
        task = Task { await session.run() }
        consumer = Task {
            for await message in session.incoming { received.withLock { $0.append(message) } }
        }
    }

    var messages: [CloudMessage] { received.withLock { $0 } }

    func isConnected() -> Bool {
        if case .connected = session.state { return true }
        return false
    }

    func stop() async {
        task.cancel()
        await task.value
        await consumer.value
    }
}

/// Starts a session's run() and cancels it on `stop()`.
final class RunningSession: Sendable {
    let session: CloudSession
    private let task: Task<Void, Never>

    init(_ session: CloudSession) {
        self.session = session
        task = Task { await session.run() }
    }

    func isConnected() -> Bool {
        if case .connected = session.state { return true }
        return false
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}

/// A sequence number carried in a test payload, e.g. {"child":"c1","seq":12}.
struct SequencedPayload: Codable, Equatable {
    var child: String
    var seq: Int

    var bytes: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    static func decode(_ bytes: [UInt8]) -> SequencedPayload? { try? JSONDecoder().decode(SequencedPayload.self, from: Data(bytes)) }
}

extension Array where Element == CloudMessage {
    /// Sequence numbers per child, in arrival order.
    var sequences: [String: [Int]] {
        var result: [String: [Int]] = [:]
        for message in self {
            if let payload = SequencedPayload.decode(message.payload) { result[payload.child, default: []].append(payload.seq) }
        }
        return result
    }
}

extension Array where Element == Int {
    /// The first time each value arrived, in order (duplicates removed).
    var firstOccurrences: [Int] {
        var seen = Set<Int>()
        return filter { seen.insert($0).inserted }
    }
}

/// Collects a stream of downlink messages so tests can wait for them with a timeout.
final class MessageCollector: Sendable {
    private let received = Locked<[CloudMessage]>([])
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<CloudMessage>) {
        let received = received
        task = Task { for await message in stream { received.withLock { $0.append(message) } } }
    }

    var messages: [CloudMessage] { received.withLock { $0 } }

    /// The `index`-th message (0-based), waiting up to `timeout` for it.
    func message(_ index: Int, timeout: Duration = .seconds(10)) async -> CloudMessage? {
        _ = await Eventually.wait(timeout: timeout) { self.messages.count > index }
        let all = messages
        return index < all.count ? all[index] : nil
    }

    deinit { task.cancel() }
}
