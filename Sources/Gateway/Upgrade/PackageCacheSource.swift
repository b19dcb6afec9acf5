import GatewayCore
import IoTDA
import PCP
import PackageCache
import Upgrade

/// The package cache as the upgrade service's `PackageSource`: one request per child's notice
/// (the cache fetches each package once and makes the other children wait on that download), and
/// fragments read from the verified copy. Public for the upgrade benchmark, which wires it the same way.
public final class PackageCacheSource: PackageSource {
    private let cache: PackageCache
    private let clock: GatewayClock
    /// The cache's packages by the name the upgrade service keeps (the cache's key).
    private let ready = Locked<[String: ReadyPackage]>([:])

    public init(cache: PackageCache, clock: GatewayClock) {
        self.cache = cache
        self.clock = clock
    }

    public func prepare(_ notice: UpgradeNotice, for nodeId: String) async -> PackagePreparation {
        let request: PackageRequest
        switch notice.source {
        case .platform(let package):
            request = .signed(url: package.url, accessToken: package.accessToken, sign: package.sign,
                              fileSize: package.fileSize, expires: notice.expires, arrivedAt: clock.now)
        case .obs(let package):
            request = .obs(url: package.url, version: package.version, expires: notice.expires, arrivedAt: clock.now)
        }
        switch await cache.request(request) {
        case .ready(let package):
            ready.withLock { $0[package.identity.key] = package }
            return .ready(Upgrade.PackageIdentity(package.identity.key), size: Int(package.size))
        case .failed(let failure):
            // The cache speaks in MQTT result codes (255 for an internal error); PCP has 0x7F.
            let code = failure.resultCode
            return .failed(code == 255 ? .internalError : PCPResult(UInt8(clamping: code)), description: failure.description)
        }
    }

    public func fragment(identity: Upgrade.PackageIdentity, index: Int, size: Int) async -> [UInt8]? {
        guard let package = ready.withLock({ $0[identity.rawValue] }) else { return nil }
        return cache.fragment(identity: package.identity, index: index, size: size)
    }
}
