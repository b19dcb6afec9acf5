import CloudLink
import CoreMetrics
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
    let bridge: CloudBridge
    let clock: GatewayClock
    let logger: Logger
    /// `limits.shutdown_seconds`: the whole graceful stop, of which the drain takes most.
    let shutdownBound: Duration
    /// When the graceful stop began: the field services stop before the cloud, and their time
    /// counts against the bound.
    let shutdownStart: ShutdownStart

    init(config: LoadedConfig, store: StateStore, outbox: Outbox, children: [ChildDevice], clock: GatewayClock, logger: Logger,
         metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        let cloud = config.gateway.cloud
        let deviceId = config.gateway.gateway.deviceId
        let secret = config.deviceSecret
        let signType = cloud.signType
        let topics = IoTDATopics(deviceId: deviceId)
        let settings = CloudSessionSettings(host: cloud.host, port: cloud.port,
                                            transport: cloud.tls ? .tls(caFile: cloud.caFile) : .plain,
                                            keepalive: cloud.keepaliveSeconds, subscriptions: topics.downlinkSubscriptions)
        session = CloudSession(settings: settings, clock: clock, logger: logger) {
            let c = try MQTTCredentials(deviceId: deviceId, secret: secret.value, signType: signType, at: clock.wallTime())
            return CloudCredentials(clientId: c.clientId, username: c.username, password: c.password,
                                    timestampChecked: signType == .timestampCheck)
        }
        pump = OutboxPump(outbox: outbox, session: session,
                          settings: OutboxPumpSettings(messagesPerSecond: cloud.maxMessagesPerSecond,
                                                       bytesPerSecond: cloud.maxBytesPerSecond),
                          store: store, clock: clock, logger: Logger(label: "edgegw.outbox"), metrics: metrics)
        bridge = CloudBridge(gatewayDeviceId: deviceId, store: store, outbox: pump, children: children,
                             clock: clock, logger: logger)
        self.clock = clock
        self.logger = logger
        shutdownBound = .seconds(config.gateway.limits.shutdownSeconds)
        shutdownStart = ShutdownStart(clock: clock)
    }

    /// How long the drain on SIGTERM may take: the bound minus a margin (a tenth, at most
    /// 500 ms) for the last deletes, the DISCONNECT and the exit.
    static func drainTime(within bound: Duration) -> Duration {
        bound - min(bound / 10, .milliseconds(500))
    }

    func run() async throws {
        let session = session, pump = pump, bridge = bridge, clock = clock
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
                    try? await clock.sleep(for: Self.tickInterval)
                    await bridge.tick()
                }
            }
            // On SIGTERM (the field services have stopped by now): what the field gave us goes
            // into the outbox, the link takes what it can within the bound, and the rest stays
            // in the outbox for the next start. The bridge keeps running meanwhile, so answers
            // and statuses that come in the drain go out too.
            try? await gracefulShutdown()
            await bridge.flushReports()
            let started = clock.now
            let fieldStop = shutdownStart.elapsed()
            let left = await pump.drainBeforeStop(timeout: Self.drainTime(within: max(.zero, shutdownBound - fieldStop)))
            let counters = pump.counters
            logger.info("cloud stopping", metadata: [
                "left": "\(left)", "field_services_stopped_in": "\(String(format: "%.2f s", fieldStop.seconds))",
                "drained_in": "\(String(format: "%.2f s", started.duration(to: clock.now).seconds))",
                "published": "\(counters.published)", "acknowledged": "\(counters.acknowledged)",
                "dropped": "\(counters.droppedByBound + counters.droppedByStorage)",
            ])
            group.cancelAll()
        }
    }
}

extension OutboxPump: OutboxWriting {}
