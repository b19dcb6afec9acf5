import Foundation
import Testing
import TestSupport

/// The daemon upgrading simulated NB-IoT modules over PCP (real DTLS-PSK on 127.0.0.1) from a
/// package it fetches once from a local HTTPS server, as the scripted cloud asks it to.
@Suite(.serialized) struct UpgradeDaemonTests {
    static let children = 10
    static let packageSize = 20_000          // 40 fragments of 500 bytes

    /// The modules report every 5 s, as meters do: an upgrade starts on the device's next report
    /// (the platform's rule), however long after registration the cloud asks for it.
    @Test func everyChildIsUpgradedFromOneDownload() async throws {
        let run = try await UpgradeRun(children: Self.children, packageSize: Self.packageSize, firstImei: 861_300_000_000_000)
        defer { run.stop() }
        let started = ContinuousClock.now
        run.notifyEveryChild(sign: run.sign)

        // Every module installs V2.0 and the cloud gets each child's final result.
        #expect(await run.modules.waitForOutput("UPGRADED", timeout: .seconds(90)), "\(run.daemon.text.suffix(6000))\n\(run.modules.text)")
        #expect(await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500)) {
            run.finalReports().count == Self.children
        }, "\(run.daemon.text.suffix(6000))")
        let elapsed = started.duration(to: .now)
        let upgraded = run.upgradedLine
        #expect(upgraded.hasPrefix("UPGRADED \(Self.children)/\(Self.children) "), "\(upgraded)")
        #expect(upgraded.contains("\"V2.0\": \(Self.children)"), "\(upgraded)")

        // One package download for the whole site.
        let gets = run.server.requests.filter { $0.path == "/pkg/meter-v2.bin" }
        let fetched = gets.reduce(0) { $0 + $1.sent }
        print("upgrade: \(Self.children) children in \(elapsed); package GETs \(gets.count), bytes fetched ÷ size = \(Double(fetched) / Double(Self.packageSize)); \(upgraded)")
        #expect(gets.count == 1, "\(gets)")
        #expect(gets.first?.status == 200)
        #expect(fetched == Self.packageSize)
        #expect(gets.first.map { run.tokens.contains($0.token ?? "") } == true, "\(gets)")

        // Per child: progress that only goes up, then result 0 with the new version.
        for imei in run.imeis {
            let reports = run.progressReports(child: "water-meter_\(imei)")
            let progress = reports.compactMap { $0["progress"] as? Int }
            #expect(progress == progress.sorted() && Set(progress).count >= 2, "water-meter_\(imei): \(reports)")
            let last = reports.last
            #expect(last?["result_code"] as? Int == 0, "water-meter_\(imei): \(reports)")
            #expect(last?["version"] as? String == "V2.0", "water-meter_\(imei): \(reports)")
            #expect(reports.dropLast().allSatisfy { $0["result_code"] as? Int == 0 }, "water-meter_\(imei): \(reports)")
        }
        #expect(run.site.platform.records.allSatisfy { $0.problems.isEmpty },
                "\(run.site.platform.records.filter { !$0.problems.isEmpty }.map { ($0.topic, $0.problems) })")
        run.daemon.signal(SIGTERM)
        let status = await run.daemon.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "exit \(status.map(String.init) ?? "none after 15 s")\n\(run.daemon.text.suffix(4000))")
    }

    @Test func aPackageWithAWrongSignFailsEveryChildWithSevenAndServesNothing() async throws {
        let run = try await UpgradeRun(children: 5, packageSize: 4_000, firstImei: 861_400_000_000_000,
                                       awaitUpgrade: 15)
        defer { run.stop() }
        run.notifyEveryChild(sign: String(repeating: "ab", count: 32))
        #expect(await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500)) {
            run.finalReports().count == 5
        }, "\(run.daemon.text.suffix(6000))")
        for imei in run.imeis {
            let last = run.progressReports(child: "water-meter_\(imei)").last
            #expect(last?["result_code"] as? Int == 7, "water-meter_\(imei): \(String(describing: last))")
            #expect((last?["description"] as? String)?.isEmpty == false, "\(String(describing: last))")
        }
        // Fetched (once) and refused: no fragment reached any module.
        let gets = run.server.requests.filter { $0.path == "/pkg/meter-v2.bin" }
        #expect(gets.count == 1, "\(gets)")
        #expect(await run.modules.waitForOutput("UPGRADED", timeout: .seconds(40)), "\(run.modules.text)")
        let upgraded = run.upgradedLine
        #expect(upgraded.hasPrefix("UPGRADED 0/5 downloaded=0 "), "\(upgraded)")
        #expect(upgraded.contains("fragment_requests=0 "), "\(upgraded)")
        #expect(run.site.platform.records.allSatisfy { $0.problems.isEmpty },
                "\(run.site.platform.records.filter { !$0.problems.isEmpty }.map { ($0.topic, $0.problems) })")
        run.daemon.signal(SIGTERM)
        #expect(await run.daemon.waitForExit(timeout: .seconds(15)) == 0, "\(run.daemon.text.suffix(3000))")
    }
}

/// The scripted cloud, the daemon with `children` PCP water meters (each its own PSK) registered
/// by one `edgegw-nbiot-sim storm`, and the HTTPS package server serving the V2.0 package.
final class UpgradeRun: @unchecked Sendable {
    let site: CloudSite
    let server: HTTPSPackageServer
    /// The running daemon (`restartDaemon` replaces it).
    private(set) var daemon: ChildProcess
    let modules: ChildProcess
    let imeis: [String]
    let tokens: [String]
    let sign: String
    let packageSize: Int

    /// The simulator's `UPGRADED …` summary line, "" before it. The simulator's stdout and
    /// stderr share one pipe, so a log line written in pieces can stand before it on its line.
    var upgradedLine: String {
        let text = modules.text
        guard let start = text.range(of: "UPGRADED ") else { return "" }
        return String(text[start.lowerBound...].prefix { $0 != "\n" })
    }

    static var simulator: String {
        URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
    }

    init(children: Int, packageSize: Int, firstImei: UInt64, awaitUpgrade: Int = 60,
         maxFragmentsPerSecond: Int = 5000, moduleArguments: [String] = []) async throws {
        self.packageSize = packageSize
        var rng = SystemRandomNumberGenerator()
        let package = (0..<packageSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        server = try await HTTPSPackageServer(files: ["meter-v2.bin": package], options: ["--require-token"])
        sign = try await server.sha256("meter-v2.bin")
        site = try await CloudSite()
        // The storm's devices and their PSKs (derived from a seed, printed by identity-file).
        let seed = String(UInt64.random(in: 1...UInt64(Int32.max)))
        let identities = try ChildProcess(Self.simulator, ["identity-file", "--devices", "\(children)", "--first-imei", "\(firstImei)", "--seed", seed])
        guard await identities.waitForExit(timeout: .seconds(20)) == 0 else { throw UpgradeTestFailure("identity-file: \(identities.text)") }
        let pairs = identities.text.split(separator: "\n").compactMap { line -> (String, String)? in
            let fields = line.split(separator: ",")
            return fields.count == 3 ? (String(fields[1]), String(fields[2])) : nil
        }
        guard pairs.count == children else { throw UpgradeTestFailure("identity-file printed \(identities.text)") }
        imeis = pairs.map(\.0)
        tokens = imeis.map { "token-\($0)-" + UUID().uuidString.prefix(8) }
        let coaps = try site.enableLwM2M(lwm2m: "", devices: """
            nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret
            \(pairs.map { "\($0.0),meter-\($0.0.suffix(4)),water-meter,0,,\($0.1),,DTLS,86400," }.joined(separator: "\n"))

            """)
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8) + """

            [upgrade]
            ca_file = "\(server.caFile)"
            max_concurrent_upgrades = 100
            max_fragments_per_second = \(maxFragmentsPerSecond)
            unknown_cell_cap = 50

            """
        site.fixture.directory.write("edgegw.toml", config)
        daemon = try site.startDaemon()
        guard await daemon.waitForOutput("lwm2m listening") else { throw UpgradeTestFailure("daemon: \(daemon.text)") }
        modules = try ChildProcess(Self.simulator, ["storm", "--port", "\(coaps)", "--devices", "\(children)", "--first-imei", "\(firstImei)",
                                               "--seed", seed, "--expect-observe", "--deadline", "60", "--sw-version", "V1.0",
                                               "--pcp-frames", "--await-upgrade", "\(awaitUpgrade)", "--report-every", "5", "--hold", "5"]
                                                + moduleArguments)
        // Every child known to the cloud and online before the cloud asks for upgrades.
        let imeis = imeis
        let site = site
        guard await Eventually.wait(timeout: .seconds(60), poll: .milliseconds(500), {
            let online = site.events("sub_device_update_status").map { "\($0)" }.filter { $0.contains("ONLINE") }.joined()
            return imeis.allSatisfy { online.contains("water-meter_\($0)") }
        }) else { throw UpgradeTestFailure("children not online: \(daemon.text.suffix(4000))\n\(modules.text)") }
    }

    /// The cloud's `software_upgrade` for every child: its own URL (path + query) and token.
    func notifyEveryChild(sign: String) {
        for (index, imei) in imeis.enumerated() {
            let paras: [String: Any] = ["version": "V2.0", "url": server.url("meter-v2.bin", child: index), "file_size": packageSize,
                                        "access_token": tokens[index], "expires": 86400, "sign": sign]
            let body: [String: Any] = ["object_device_id": "water-meter_\(imei)", "services": [[
                "service_id": "$ota", "event_type": "software_upgrade", "event_time": Self.eventTime(), "paras": paras]]]
            let order: [String: Any] = ["publish": ["topic": "$oc/devices/\(site.deviceId)/sys/events/down", "payload": body]]
            if let data = try? JSONSerialization.data(withJSONObject: order) {
                site.platform.send(String(decoding: data, as: UTF8.self))
            }
        }
    }

    static func eventTime() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date())
    }

    /// The `paras` of every `upgrade_progress_report` the cloud got for `child`, in order.
    func progressReports(child: String) -> [[String: Any]] {
        site.platform.records.flatMap { record -> [[String: Any]] in
            guard record.topic.hasSuffix("/sys/events/up"),
                  let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any],
                  json["object_device_id"] as? String == child,
                  let services = json["services"] as? [[String: Any]] else { return [] }
            return services.filter { $0["event_type"] as? String == "upgrade_progress_report" }.compactMap { $0["paras"] as? [String: Any] }
        }
    }

    /// Children whose last report is final: a failure, or success with progress 100.
    func finalReports() -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for imei in imeis {
            guard let last = progressReports(child: "water-meter_\(imei)").last else { continue }
            let code = last["result_code"] as? Int
            if code != 0 || (last["version"] as? String == "V2.0" && last["progress"] as? Int == 100) { result[imei] = last }
        }
        return result
    }

    /// SIGKILL (power cut of the box), then a new daemon on the same configuration and state.
    func killAndRestartDaemon() async throws {
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit(timeout: .seconds(10))
        daemon = try site.startDaemon()
    }

    /// Children whose last report is not a success on V2.0, with that report.
    func childrenNotOnV2() -> [String: String] {
        var result: [String: String] = [:]
        for imei in imeis {
            let last = progressReports(child: "water-meter_\(imei)").last
            if last?["result_code"] as? Int != 0 || last?["version"] as? String != "V2.0" { result[imei] = String(describing: last) }
        }
        return result
    }

    func stop() {
        modules.signal(SIGKILL)
        if daemon.isRunning { daemon.signal(SIGKILL) }
        server.child.signal(SIGKILL)
    }
}

struct UpgradeTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
