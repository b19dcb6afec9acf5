import Bootstrap
import Config
import Foundation
import GatewayCore
import Logging
import LwM2M
import ServiceLifecycle

/// The gateway's side of the bootstrap server: bootstrap keys from the device list (by PSK
/// identity), and the account written to a device: edgegw's own coaps listener, as the device
/// reached the gateway, with the device's connection key. A device whose list row gives none
/// gets one generated and stored on its first bootstrap; the LwM2M server's directory takes it at
/// once, so the Register that follows Bootstrap-Finish is accepted.
final class DeviceListBootstrapProvider: BootstrapProvider, Sendable {
    private let devices: Locked<[String: NBIoTDevice]>
    private let nodeByIdentity: [String: String]
    private let directory: StaticDeviceDirectory
    private let stateDirectory: String
    private let coapsPort: Int
    private let logger: Logger

    init(devices: [NBIoTDevice], directory: StaticDeviceDirectory, stateDirectory: String, coapsPort: Int, logger: Logger) {
        let provisioned = devices.filter { !$0.bootstrapPSK.isEmpty }
        self.devices = Locked(Dictionary(provisioned.map { ($0.nodeId, $0) }, uniquingKeysWith: { a, _ in a }))
        nodeByIdentity = Dictionary(provisioned.map { ($0.pskIdentity, $0.nodeId) }, uniquingKeysWith: { a, _ in a })
        self.directory = directory
        self.stateDirectory = stateDirectory
        self.coapsPort = coapsPort
        self.logger = logger
    }

    func bootstrapKey(identity: String) -> [UInt8]? {
        guard let nodeId = nodeByIdentity[identity] else { return nil }
        return devices.withLock { $0[nodeId]?.bootstrapPSK }
    }

    func plan(endpoint: String, identity: String?, localHost: String) -> Result<BootstrapPlan, BootstrapRefusal> {
        guard var device = devices.withLock({ $0[endpoint] }) else {
            return .failure(BootstrapRefusal(.unauthorized, "\(endpoint) has no bootstrap entry in the device list"))
        }
        // Only over DTLS with the device's own identity: a key is never handed to someone who
        // merely names the endpoint.
        guard identity == device.pskIdentity else {
            return .failure(BootstrapRefusal(.unauthorized, "\(endpoint) asked under the identity \(identity ?? "none (plain CoAP)"), not its own"))
        }
        if device.psk.isEmpty {
            do {
                device.psk = try GeneratedConnectionKeys.ensureKey(for: device, stateDirectory: stateDirectory)
            } catch {
                return .failure(BootstrapRefusal(.noConfiguration, "no connection key could be stored for \(endpoint): \(error.problem)"))
            }
            let updated = device
            devices.withLock { $0[endpoint] = updated }
            directory.update(updated)
            logger.info("connection key generated for a device provisioned by bootstrap", metadata: ["node": "\(endpoint)"])
        }
        let host = localHost.contains(":") ? "[\(localHost)]" : localHost
        return .success(BootstrapPlan(serverURI: "coaps://\(host):\(coapsPort)", pskIdentity: Array(device.pskIdentity.utf8),
                                      psk: device.psk, lifetime: device.lifetime ?? BootstrapPlan.defaultLifetime))
    }
}

/// The bootstrap server in the daemon's service group: started with the group, stopped on its
/// graceful shutdown (sessions in progress end `cancelled`; the devices bootstrap again).
struct BootstrapService: Service {
    let server: BootstrapServer
    let logger: Logger
    /// Records each finished bootstrap for `edgegw provision list`.
    var recorder: ProvisioningRecorder?

    func run() async throws {
        try server.start()
        let server = server
        await withGracefulShutdownHandler {
            for await event in server.events {
                if case .finished(let endpoint) = event { recorder?.bootstrapFinished(nodeId: endpoint) }
                if case .loop(let endpoint, let count) = event { recorder?.bootstrapLoop(nodeId: endpoint, count: count) }
                if case .failed(let endpoint, let failure, _) = event, failure == .unauthorized {
                    logger.debug("bootstrap refused", metadata: ["endpoint": "\(endpoint)"])
                }
            }
        } onGracefulShutdown: {
            server.stop()
        }
        let counters = server.counters
        let failures = counters.failures.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
        logger.info("bootstrap server stopped", metadata: [
            "started": "\(counters.started)", "finished": "\(counters.finished)", "failures": "\(failures.joined(separator: ","))",
            "unknown_identities": "\(counters.unknownIdentities)", "loops": "\(counters.loopsDetected)",
        ])
    }

    /// The bootstrap server when `[listeners.bootstrap]` is on and some device has a bootstrap key.
    static func make(loaded: LoadedConfig, directory: StaticDeviceDirectory, clock: GatewayClock,
                     recorder: ProvisioningRecorder? = nil) -> BootstrapService? {
        let listener = loaded.gateway.listeners.bootstrap
        guard listener.enabled, loaded.nbiotDevices.contains(where: { !$0.bootstrapPSK.isEmpty }) else { return nil }
        let logger = Logger(label: "edgegw.bootstrap")
        let provider = DeviceListBootstrapProvider(devices: loaded.nbiotDevices, directory: directory,
                                                   stateDirectory: loaded.gateway.store.stateDirectory,
                                                   coapsPort: loaded.gateway.listeners.coaps.port, logger: logger)
        let settings = BootstrapServerSettings(dtlsListeners: listener.bind.map { .init(host: $0, port: UInt16(listener.port)) },
                                               maxHandshakesInProgress: loaded.gateway.limits.maxDTLSHandshakes,
                                               receiveBufferBytes: loaded.gateway.limits.udpReceiveBufferBytes)
        return BootstrapService(server: BootstrapServer(settings: settings, provider: provider, clock: clock, logger: logger), logger: logger,
                                recorder: recorder)
    }
}
