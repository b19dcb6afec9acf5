import CloudLink
import Foundation
import TestSupport
@testable import IoTDA
@testable import Store

/// A gateway's cloud side against the scripted platform on a mosquitto of its own: broker and
/// platform started, a state store in a temporary folder, the outbox, a plain-MQTT session
/// subscribed to the gateway's downlink topics, and an unshaped pump (neither running yet).
final class ScriptedCloud: Sendable {
    let deviceId: String
    let broker: MosquittoBroker
    let platform: MosquittoScriptedPlatform
    let folder = TemporaryDirectory()
    let store: StateStore
    let outbox: Outbox
    let session: CloudSession
    let pump: OutboxPump

    init(deviceId: String) async throws {
        self.deviceId = deviceId
        let platformPassword = "p-" + UUID().uuidString
        broker = try await MosquittoBroker(users: [.init(name: deviceId, password: "pw"), .platform(password: platformPassword)])
        try await broker.start()
        platform = try MosquittoScriptedPlatform(broker: broker, password: platformPassword)
        store = try StateStore(directory: folder.path)
        outbox = try Outbox(store: store)
        let topics = IoTDATopics(deviceId: deviceId)
        session = CloudSession(settings: CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain,
                                                              subscriptions: topics.downlinkSubscriptions)) {
            CloudCredentials(clientId: "\(deviceId)_0_0_2026112216", username: deviceId, password: "pw")
        }
        pump = OutboxPump(outbox: outbox, session: session, settings: .unshaped, store: store)
    }
}
