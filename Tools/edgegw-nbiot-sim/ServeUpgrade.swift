import ArgumentParser
import Foundation
import Gateway
import GatewayCore
import IoTDA
import Logging
import LwM2M
import LwM2MSimulator
import PackageCache
import Store
import Upgrade

/// The upgrade benchmark's server side (scripts/bench-upgrade.sh): edgegw's LwM2M server, LwM2M
/// service, upgrade service and package cache in one process, wired as the daemon wires them
/// (Sources/Gateway/Upgrade/UpgradeWiring.swift), with the cloud replaced by this command: once
/// the trigger file appears it hands the upgrade service one `software_upgrade` notice per storm
/// device (each its own URL query and token), then prints what the service did.
struct ServeUpgrade: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-upgrade",
        abstract: "Run edgegw's LwM2M server with its upgrade service and package cache; upgrade every storm device once --trigger exists.")
    @Option var host = "127.0.0.1"
    @Option var port: UInt16 = 5684
    @OptionGroup var options: StormOptions
    @Option(help: "Handshakes in progress allowed.") var maxHandshakes = 4096
    @Option(help: "CoAP threads (libcoap contexts).") var coapThreads = LwM2MServerSettings.defaultCoAPThreads
    @Option(help: "Product files (the codec of the storm devices' business data).") var products: String
    @Option(help: "Product id of the storm devices.") var product = "water-meter"
    @Option(help: "Package URL; each device gets it with its own query (?child=N&sig=...) and token.") var url: String
    @Option(help: "Package size in bytes.") var fileSize: Int64
    @Option(help: "Package SHA-256 (hex).") var sign: String
    @Option(help: "Target version.") var version = "V2.0"
    @Option(help: "CA bundle of the package server.") var caFile: String?
    @Option(help: "State directory (store and package cache).") var stateDirectory: String
    @Option(help: "Bytes of package data per fragment.") var fragmentSize = 500
    @Option(help: "Site-wide fragments/s budget.") var maxFragmentsPerSecond = 100_000
    @Option(help: "Concurrent upgrades over the site and in the unknown-cell group (default: --devices).") var maxConcurrent: Int?
    @Option(help: "The notices go out once this file exists (after every device registered).") var trigger: String
    @Option(help: "Give up this many seconds after the trigger.") var deadline: Double = 300

    func run() async throws {
        raiseFileLimit()
        let devices = options.serverDevices(productId: product, pcpUpgradeCapable: true)
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: host, port: port)])
        settings.maxHandshakesInProgress = maxHandshakes
        settings.coapThreads = coapThreads
        let logger = StormOptions.quietServerLogger()
        let directory = StaticDeviceDirectory(devices)
        let server = LwM2MServer(settings: settings, directory: directory, logger: logger)
        let (codecs, problems) = ProductCodecs.load(productsDirectory: products)
        for problem in problems { FileHandle.standardError.write(Data("products: \(problem)\n".utf8)) }
        let lwm2m = LwM2MService(server: server, directory: directory, decoder: codecs, encoder: codecs, sink: ReportCounter(), logger: logger)

        let clock = GatewayClock.system()
        let store = try StateStore(directory: stateDirectory)
        var cacheLogger = Logger(label: "edgegw.packages")
        cacheLogger.logLevel = .warning
        let cache = try PackageCache(settings: .init(stateDirectory: stateDirectory, maxBytes: 64 << 20, caFile: caFile, verifyTLS: true),
                                     store: store, clock: clock, logger: cacheLogger)
        let cap = maxConcurrent ?? options.devices
        // The caps at least N (the unknown-cell group too: storm devices announce no radio), so
        // that the limits do not cap the measurement.
        let config = GatewayConfig.Upgrade(maxConcurrentUpgrades: cap, maxFragmentsPerSecond: maxFragmentsPerSecond,
                                           unknownCellCap: cap, caFile: caFile)
        var upgradeLogger = Logger(label: "edgegw.upgrade")
        upgradeLogger.logLevel = .warning
        let reports = ProgressCounter()
        let upgrades = UpgradeService(config: config, cellLimit: { $0.flatMap(CoverageLevel.perCellConcurrency) },
                                      packages: PackageCacheSource(cache: cache, clock: clock), downlink: lwm2m, reporter: reports,
                                      store: StoredUpgradeTasks(store, logger: upgradeLogger), clock: clock, logger: upgradeLogger)
        await lwm2m.attachUpgrades(upgrades)
        let drain = Task { try? await lwm2m.run() }
        let runner = Task { await upgrades.run() }
        while server.receiveBufferSizes.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        FileHandle.standardOutput.write(Data("READY port=\(port) devices=\(options.devices)\n".utf8))

        while !FileManager.default.fileExists(atPath: trigger) { try await Task.sleep(for: .milliseconds(5)) }
        let upgradeSettings = ProductModel.Upgrade(fragmentSize: fragmentSize)
        let start = ContinuousClock.now
        for (index, device) in devices.enumerated() {
            let package = UpgradePackage(version: version, url: "\(url)?child=\(index)&sig=\(index * 7)", fileSize: fileSize,
                                         accessToken: "token-\(index)", sign: sign)
            let notice = try UpgradeNotice(kind: .software, package: package)
            await upgrades.upgrade(nodeId: device.nodeId, notice: notice, product: upgradeSettings, currentVersion: "V1.0")
        }
        let noticesSent = start.duration(to: .now)
        var firstServed: Duration?
        var lastServed: Duration = .zero
        var lastCount = 0
        var status = await upgrades.status()
        let end = start + .seconds(deadline)
        while ContinuousClock.now < end, status.succeeded + status.failed < options.devices {
            try await Task.sleep(for: .milliseconds(20))
            status = await upgrades.status()
            if status.fragmentsServed > lastCount {
                let now = start.duration(to: .now)
                if firstServed == nil { firstServed = now }
                lastServed = now
                lastCount = status.fragmentsServed
            }
        }
        let wall = start.duration(to: .now)
        let span = lastServed - (firstServed ?? .zero)
        let rss = Self.residentKiB()
        let line = String(format: "UPGRADE devices=%d finished=%d succeeded=%d failed=%d wall_s=%.3f notices_s=%.3f fragments_served=%d bytes_served=%d "
                          + "first_fragment_s=%.3f fragments_per_s=%.0f rss_kib=%d final_or_complete_reports=%d",
                          options.devices, status.succeeded + status.failed, status.succeeded, status.failed, wall.seconds, noticesSent.seconds,
                          status.fragmentsServed, status.bytesServed, (firstServed ?? .zero).seconds,
                          span > .zero ? Double(status.fragmentsServed) / span.seconds : 0, rss, reports.finals)
        FileHandle.standardOutput.write(Data("\(line)\nSTATUS \(status)\nCOUNTERS \(server.counters)\n".utf8))
        await upgrades.finish()
        runner.cancel()
        drain.cancel()
        await cache.shutdown()
        server.stop()
    }

    static func residentKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
}

/// Where the daemon would publish the children's `upgrade_progress_report`s: counts the final ones.
final class ProgressCounter: UpgradeReporter, @unchecked Sendable {
    private let count = Locked(0)
    func progress(nodeId: String, _ progress: UpgradeProgress) async {
        if progress.progress == 100 || progress.resultCode != 0 { count.withLock { $0 += 1 } }
    }
    func versionReport(nodeId: String, _ report: VersionReport) async {}
    var finals: Int { count.withLock { $0 } }
}
