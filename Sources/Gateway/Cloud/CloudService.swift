import CloudLink
import Foundation
import GatewayCore
import IoTDA
import Logging
import ServiceLifecycle
import Store

/// The cloud side as one service: the MQTT session, the outbox pump that drains into it, and
/// the bridge that turns field data into IoTDA payloads and routes what the cloud sends.
struct CloudService: Service {
    /// How often the bridge's timers (report batching, status coalescing, add retries) run.
    static let tickInterval: Duration = .milliseconds(100)

    let session: CloudSession
    let pump: OutboxPump
    let bridge: CloudBridge<ContinuousClock>
    let logger: Logger

    init(config: LoadedConfig, store: StateStore, outbox: Outbox, children: [ChildDevice], logger: Logger) {
        let cloud = config.gateway.cloud
        let deviceId = config.gateway.gateway.deviceId
        let secret = config.deviceSecret
        let signType: IoTDA.SignType = cloud.signType == .timestampChecked ? .timestampCheck : .noTimestampCheck
        let topics = IoTDATopics(deviceId: deviceId)
        let settings = CloudSessionSettings(host: cloud.host, port: cloud.port,
                                            transport: cloud.tls ? .tls(caFile: cloud.caFile) : .plain,
                                            keepalive: cloud.keepaliveSeconds, subscriptions: topics.downlinkSubscriptions)
        session = CloudSession(settings: settings, logger: logger) {
            let c = try MQTTCredentials(deviceId: deviceId, secret: secret.value, signType: signType, at: Date())
            return CloudCredentials(clientId: c.clientId, username: c.username, password: c.password,
                                    timestampChecked: signType == .timestampCheck)
        }
        pump = OutboxPump(outbox: outbox, session: session,
                          settings: OutboxPumpSettings(messagesPerSecond: cloud.maxMessagesPerSecond,
                                                       bytesPerSecond: cloud.maxBytesPerSecond),
                          store: store, logger: Logger(label: "edgegw.outbox"))
        bridge = CloudBridge(gatewayDeviceId: deviceId, store: store, outbox: pump, children: children,
                             clock: ContinuousClock(), logger: logger)
        self.logger = logger
    }

    func run() async throws {
        let session = session, pump = pump, bridge = bridge
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            group.addTask { await pump.run() }
            group.addTask {
                for await state in session.stateChanges() {
                    switch state {
                    case .connected: await bridge.connected()
                    case .disconnected: await bridge.disconnected()
                    }
                }
            }
            group.addTask {
                for await message in session.incoming {
                    await bridge.received(topic: message.topic, payload: Data(message.payload))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.tickInterval)
                    await bridge.tick()
                }
            }
            // On SIGTERM: what the field gave us is in the outbox before we go; the rest of it
            // is delivered after the restart.
            try? await gracefulShutdown()
            await bridge.flushReports()
            let counters = pump.counters
            logger.info("cloud stopping", metadata: ["pending": "\(counters.pending)", "published": "\(counters.published)",
                                                     "acknowledged": "\(counters.acknowledged)"])
            group.cancelAll()
        }
    }
}

extension OutboxPump: OutboxWriting {}
