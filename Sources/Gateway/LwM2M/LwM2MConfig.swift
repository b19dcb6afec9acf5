import Foundation
import GatewayCore
import LwM2M

/// The LwM2M server's settings: listeners and admission from `[listeners]` and `[limits]`,
/// the rest from `[lwm2m]`.
struct LwM2MConfig: Sendable {
    var server: LwM2MServerSettings
    var service: LwM2MServiceSettings
    /// `nodeId = psk` lines, mode 0600.
    var pskSecretsFile: String?

    init() {
        server = LwM2MServerSettings()
        service = LwM2MServiceSettings()
    }

    /// Reads `[lwm2m]` (absent keys keep their defaults) and maps the shared tables.
    static func parse(_ reader: ConfigReader?, gateway: GatewayConfig?, baseDirectory: String) -> LwM2MConfig {
        var config = LwM2MConfig()
        if let gateway {
            func listeners(_ l: GatewayConfig.Listener) -> [LwM2MServerSettings.Listener] {
                l.enabled ? l.bind.map { LwM2MServerSettings.Listener(host: $0, port: UInt16(l.port)) } : []
            }
            config.server.dtlsListeners = listeners(gateway.listeners.coaps)
            config.server.plainListeners = listeners(gateway.listeners.coap)
            config.server.maxHandshakesInProgress = gateway.limits.maxDTLSHandshakes
            config.server.receiveBufferBytes = gateway.limits.udpReceiveBufferBytes
        }
        guard let r = reader else { return config }
        config.pskSecretsFile = r.nonEmptyString("psk_secrets_file", required: false).map {
            $0.hasPrefix("/") ? $0 : (baseDirectory as NSString).appendingPathComponent($0)
        }
        config.server.socketsPerListener = r.int("listener_sockets", default: config.server.socketsPerListener,
                                                 range: 1...LwM2MServerSettings.maxSocketsPerListener)
        config.server.coapThreads = r.int("coap_threads", default: config.server.coapThreads,
                                          range: 1...LwM2MServerSettings.maxCoAPThreads)
        config.server.sessionIdleTimeout = r.int("session_idle_timeout", default: config.server.sessionIdleTimeout, range: 10...604_800)
        config.server.maxPayloadBytes = r.int("max_payload", default: config.server.maxPayloadBytes, range: 16...65_536)
        config.server.defaultLifetime = r.int("default_lifetime", default: config.server.defaultLifetime, range: 30...604_800)
        config.server.autoProvisionProductId = r.nonEmptyString("auto_provision_product", required: false)
        config.server.downlinkMethod = r.choice("downlink_method", as: LwM2MServerSettings.DownlinkMethod.self, required: false)
            ?? config.server.downlinkMethod
        config.service.defaultStrategy = r.choice("command_strategy", as: CommandDeliveryStrategy.self, required: false)
            ?? config.service.defaultStrategy
        func seconds(_ key: String, _ value: Duration, _ range: ClosedRange<Int>) -> Duration {
            .seconds(r.int(key, default: Int(value.components.seconds), range: range))
        }
        config.service.commandExpiry = seconds("command_expiry", config.service.commandExpiry, 60...2_592_000)
        config.service.awakeWindow = seconds("awake_window", config.service.awakeWindow, 1...3600)
        config.service.resultWait = seconds("result_wait", config.service.resultWait, 1...86_400)
        r.finish()
        return config
    }
}
