import Foundation
import Store

/// The size bound: verified packages no task needs go, least recently verified first, until
/// the files fit in `maxBytes`. Packages a task needs and downloads in flight are never
/// evicted, even when they alone exceed the bound (that is logged).
extension PackageCache {
    func evict() {
        var packages = ready.all
        var total = packages.reduce(Int64(0)) { $0 + $1.size }
        guard total > settings.maxBytes else { return }
        let updated = (try? store.allPackages()).map { Dictionary($0.map { ($0.identity, $0.updatedAt) }) { a, _ in a } } ?? [:]
        packages.sort { (updated[$0.identity.key] ?? .distantPast) < (updated[$1.identity.key] ?? .distantPast) }
        for package in packages where total > settings.maxBytes {
            let key = package.identity.key
            guard !needed.contains(key), jobs[key] == nil else { continue }
            ready.remove(key)
            // Two identities (a signed one and an OBS one) may share one content address.
            if !ready.all.contains(where: { $0.path == package.path }) { files.remove(package.path) }
            do { try store.deletePackage(identity: key) } catch {
                logger.error("package cache: cannot remove \(key) from the index: \(error)")
            }
            total -= package.size
            logger.info("package cache: evicted \(key) (\(package.size) bytes) to stay within \(settings.maxBytes) bytes")
        }
        if total > settings.maxBytes {
            logger.warning("package cache: \(total) bytes of packages still needed exceed the bound of \(settings.maxBytes) bytes")
        }
    }
}
