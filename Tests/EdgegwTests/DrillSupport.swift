import Foundation
import Testing
import TestSupport

/// What the fault drills share: a site whose daemon logs at `info` (the volume an operator gets)
/// with its admin socket and metrics on ports of their own, a Modbus meter whose counter the drill
/// steps, and readings of the daemon's memory, log and outbox.
enum Drill {
    /// `[admin]` and `[metrics]` for a drill's daemon (the admin socket under the fixture's `run/`).
    static func extraConfig(metricsPort: UInt16) -> String {
        """

        [admin]
        socket = "run/admin.sock"

        [metrics]
        listen = "127.0.0.1:\(metricsPort)"
        """
    }

    /// A site as `CloudSite` makes it, its log level `info`, with the admin socket and metrics on.
    static func site(persistentBroker: Bool = false, hourMargin: Int = 20, extraConfig: String = "") async throws -> (CloudSite, UInt16) {
        let metricsPort = FreePort.next()
        let site = try await CloudSite(extraConfig: Self.extraConfig(metricsPort: metricsPort) + extraConfig,
                                       persistentBroker: persistentBroker, hourMargin: hourMargin)
        try FileManager.default.createDirectory(atPath: site.fixture.directory.file("run"), withIntermediateDirectories: true)
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "level = \"debug\"", with: "level = \"info\"")
        site.fixture.directory.write("edgegw.toml", config)
        return (site, metricsPort)
    }

    /// `edgegw status --json` of the site's daemon, decoded; nil when it did not answer.
    static func status(_ site: CloudSite) async -> [String: Any]? {
        guard let process = try? ChildProcess(Paths.edgegwBinary, ["status", "--json", "--config", site.fixture.configPath]),
              await process.waitForExit(timeout: .seconds(30)) == 0 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(process.text.utf8)) as? [String: Any]
    }

    /// Messages waiting in the daemon's outbox, as `edgegw status` tells them.
    static func outboxMessages(_ site: CloudSite) async -> Int? {
        (await status(site)?["outbox"] as? [String: Any])?["messages"] as? Int
    }

    /// One scrape of the daemon's metrics (with `curl`, so no concurrency thread waits on a socket).
    static func scrape(port: UInt16) async -> ScrapeText? {
        guard let curl = try? ChildProcess("curl", ["-s", "-i", "--max-time", "10", "http://127.0.0.1:\(port)/metrics"]),
              await curl.waitForExit(timeout: .seconds(20)) == 0 else { return nil }
        return ScrapeText(curl.text)
    }

    /// The lines of a daemon's log.
    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    /// The kinds of lines in a stretch of log (the message's first words after the level and
    /// module), most frequent first: for a test's output.
    static func kinds(_ lines: some Sequence<Substring>, top: Int = 6) -> String {
        var counts: [String: Int] = [:]
        for line in lines {
            let words = line.split(separator: " ")
            guard words.count > 3 else { continue }
            counts[words[1...min(words.count - 1, 5)].joined(separator: " "), default: 0] += 1
        }
        return counts.sorted { $0.value > $1.value }.prefix(top).map { "\($0.value)x \($0.key)" }.joined(separator: "; ")
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}

/// A Modbus TCP slave (scripts/modbus_sim.py) as child `meter-1` of the site: holding register 0
/// is a counter the drill steps, polled every `intervalMs`. `step()` waits until the gateway has
/// read each new value, so every value it sets is one the gateway read and must report.
final class CounterMeter: @unchecked Sendable {
    static let deviceId = "drill-meter_meter-1"
    static let product = """
        [product]
        id = "drill-meter"
        manufacturer = "Acme"
        model = "DM-1"
        device_type = "Meter"
        protocol = "Modbus"

        [[services]]
        id = "Meter"

          [[services.properties]]
          name = "counter"
          type = "int"

          [[services.properties]]
          name = "relay"
          type = "boolean"
          access = "RW"
        """

    let peer: ModbusPeer
    let port: UInt16
    private(set) var value = 0

    /// Starts the slave and writes the meter's product and device file into the site (replacing
    /// the fixture's meter-1); the counter starts at 1.
    init(site: CloudSite, intervalMs: Int = 200) async throws {
        port = FreePort.next()
        peer = try ModbusPeer(tcpPort: port, units: [1])
        guard await peer.ready() else { throw MosquittoBrokerError("modbus_sim.py did not start on port \(port)") }
        site.fixture.directory.write("products/drill-meter.toml", Self.product)
        site.fixture.directory.write("devices/meter-1.toml", """
            node_id = "meter-1"
            product_id = "drill-meter"
            unit_id = 1

            [transport]
            kind = "tcp"
            host = "127.0.0.1"
            port = \(port)

            [[poll_groups]]
            name = "fast"
            interval_ms = \(intervalMs)

            [[points]]
            name = "counter"
            service_id = "Meter"
            table = "holding"
            address = 0
            type = "uint16"
            group = "fast"

            [[points]]
            name = "relay"
            service_id = "Meter"
            table = "coil"
            address = 0
            type = "bool"
            writable = true
            group = "fast"
            """)
        value = 1
        await peer.set(unit: 1, table: "holding", address: 0, [1])
    }

    /// Sets the next value and waits (up to `timeout`) until the slave has seen a request after
    /// the set: the gateway has read the new value. False when no read came in time.
    func step(timeout: Duration = .seconds(20)) async -> Bool {
        value += 1
        guard await peer.set(unit: 1, table: "holding", address: 0, [value]) else { return false }
        // Reads logged from now on came in after the set.
        let before = await reads()
        return await Eventually.wait(timeout: timeout, poll: .milliseconds(50)) { await self.reads() > before }
    }

    private func reads() async -> Int {
        (await peer.requests() ?? []).filter { $0.function == 3 }.count
    }

    /// Every counter value the platform received, in arrival order (replays included).
    static func received(_ site: CloudSite) -> [Int] {
        site.platform.records.flatMap { record -> [Int] in
            guard record.topic.hasSuffix("/sys/gateway/sub_devices/properties/report"),
                  let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any] else { return [] }
            return (json["devices"] as? [[String: Any]] ?? []).filter { $0["device_id"] as? String == deviceId }
                .flatMap { $0["services"] as? [[String: Any]] ?? [] }
                .compactMap { ($0["properties"] as? [String: Any])?["counter"] as? Int }
        }
    }
}
