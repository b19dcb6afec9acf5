import Bootstrap
import LwM2M
import LwM2MSimulator

/// The storm's devices as the bootstrap server knows them: bootstrap and connection keys derived
/// from the seed, the account written is the storm server's own coaps listener.
struct StormBootstrapProvider: BootstrapProvider {
    let options: StormOptions
    let lwm2mPort: UInt16

    func index(_ endpoint: String) -> Int? { StormDevices.index(of: endpoint, firstIMEI: options.firstImei, count: options.devices) }

    func bootstrapKey(identity: String) -> [UInt8]? {
        index(identity).map { Array(StormDevices.bootstrapPSK(seed: options.seed, index: $0).utf8) }
    }

    func plan(endpoint: String, identity: String?, localHost: String) -> Result<BootstrapPlan, BootstrapRefusal> {
        guard identity == endpoint, let index = index(endpoint) else {
            return .failure(BootstrapRefusal(.unauthorized, "\(endpoint) is not a storm device under its own identity"))
        }
        return .success(BootstrapPlan(serverURI: "coaps://\(localHost):\(lwm2mPort)", pskIdentity: Array(endpoint.utf8),
                                      psk: Array(StormDevices.psk(seed: options.seed, index: index).utf8)))
    }
}
