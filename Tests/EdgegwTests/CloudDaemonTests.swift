import Foundation
import Testing
import TestSupport
@testable import IoTDA
@testable import Store

/// The daemon against a real mosquitto broker and the scripted platform: the broker checks
/// the CONNECT credentials (a password file made for this hour's HMAC password).
final class CloudSite: @unchecked Sendable {
    let deviceId = "gw-bb-0001"
    let secret = "s" + UUID().uuidString.prefix(12).lowercased()
    let fixture: ConfigFixture
    let broker: MosquittoBroker
    let platform: MosquittoScriptedPlatform
    static let platformPassword = "platform-" + UUID().uuidString

    /// `persistentBroker`: the broker keeps the platform's persistent session across graceful
    /// restarts, so the platform records everything the broker acknowledged (drills that restart
    /// the broker). `hourMargin`: seconds the test needs before the UTC hour changes (the
    /// password carries the hour; a reconnect in the next hour would be refused).
    init(extraConfig: String = "", persistentBroker: Bool = false, hourMargin: Int = 20) async throws {
        while Self.secondsLeftInHour() < hourMargin {
            try await Task.sleep(for: .seconds(1))
        }
        let hour = ConnectTimestamp(Date()).text
        let password = HMACSHA256.hex(key: hour, message: secret)
        broker = try await MosquittoBroker(users: [.init(name: deviceId, password: password), .platform(password: Self.platformPassword)],
                                           persistent: persistentBroker)
        try await broker.start()
        platform = try MosquittoScriptedPlatform(broker: broker, password: Self.platformPassword,
                                                 session: persistentBroker ? "platform-" + UUID().uuidString.prefix(8) : nil)
        fixture = ConfigFixture(cloudPort: Int(broker.port), extra: extraConfig)
        fixture.directory.write("secrets/device_secret", secret + "\n", mode: 0o600)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "gw-test-0001", with: deviceId)
        fixture.directory.write("edgegw.toml", config)
        #expect(await platform.waitUntilConnected())
    }

    static func secondsLeftInHour() -> Int {
        let now = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return 3600 - (now.minute ?? 0) * 60 - (now.second ?? 0)
    }

    func startDaemon() throws -> ChildProcess {
        try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
    }

    func events(_ type: String) -> [[String: Any]] { platform.events(type) }

    deinit { platform.stop() }
}

@Suite(.serialized) struct CloudDaemonTests {
    @Test func childrenAreAddedSyncedAndTheirStatusResentAfterAReconnect() async throws {
        let site = try await CloudSite()
        let daemon = try site.startDaemon()
        #expect(await Eventually.wait(timeout: .seconds(15)) { !site.events("add_sub_device_request").isEmpty }, "\(daemon.text)")
        #expect(site.events("sub_device_sync_request").count == 1)
        let added = site.events("add_sub_device_request").first?["paras"] as? [String: Any]
        #expect((added?["devices"] as? [[String: Any]])?.first?["node_id"] as? String == "meter-1")
        // The platform answered; the child's status follows under its new id once the field
        // knows it: the meter does not answer, so OFFLINE after three failed polls (5 s apart).
        #expect(await Eventually.wait(timeout: .seconds(30)) { !site.events("sub_device_update_status").isEmpty }, "\(daemon.text)")
        #expect(await Eventually.wait { (try? StateStore(directory: site.fixture.directory.file("state")).child(nodeId: "meter-1")?.deviceId) == "power-meter_meter-1" })

        // The link drops and comes back: the gateway asks what changed and re-sends every status.
        // The daemon is paused until the platform has subscribed again, so nothing it sends
        // after its reconnect can reach an empty broker.
        daemon.signal(SIGSTOP)
        await site.broker.kill()
        try await Task.sleep(for: .milliseconds(300))
        try await site.broker.start()
        #expect(await Eventually.wait(timeout: .seconds(30)) {
            site.platform.text.components(separatedBy: "platform: connected").count >= 3
        })
        daemon.signal(SIGCONT)
        #expect(await Eventually.wait(timeout: .seconds(30)) { site.events("sub_device_sync_request").count >= 2 }, "\(daemon.text)")
        #expect(await Eventually.wait(timeout: .seconds(20)) { site.events("sub_device_update_status").count >= 2 })
        #expect(site.events("add_sub_device_request").count == 1)   // known now: not added twice
        #expect(site.platform.records.allSatisfy { $0.problems.isEmpty }, "\(site.platform.records.filter { !$0.problems.isEmpty }.map(\.problems))")
        daemon.signal(SIGTERM)
        let status = await daemon.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "exit \(status.map(String.init) ?? "none after 15 s"); running \(daemon.isRunning)\n\(daemon.text.suffix(4000))")
    }

    @Test func sigkillMidDrainLosesNothing() async throws {
        let site = try await CloudSite(extraConfig: "")
        let config = try String(contentsOfFile: site.fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "keepalive_seconds = 60", with: "keepalive_seconds = 60\nmax_messages_per_second = 100")
        site.fixture.directory.write("edgegw.toml", config)
        // 400 reports waiting in the outbox, as after a long outage.
        let total = 400
        do {
            let outbox = try Outbox(store: StateStore(directory: site.fixture.directory.file("state")))
            let topic = IoTDATopics(deviceId: site.deviceId).gatewayBatchPropertiesReport
            try outbox.append((0..<total).map { seq in
                let body = #"{"devices":[{"device_id":"power-meter_meter-1","services":[{"service_id":"Energy","properties":{"seq":\#(seq)}}]}]}"#
                return OutboxMessage(kind: .propertyReport, topic: topic, payload: Array(body.utf8), nodeId: "meter-1")
            })
        }
        func delivered() -> [Int] {
            site.platform.records.compactMap { record in
                guard record.topic.hasSuffix("/sub_devices/properties/report"),
                      let seq = record.payload.range(of: #""seq":"#).map({ record.payload[$0.upperBound...].prefix { $0.isNumber } }) else { return nil }
                return Int(seq)
            }
        }
        let first = try site.startDaemon()
        #expect(await Eventually.wait(timeout: .seconds(20)) { delivered().count >= 100 }, "\(first.text)")
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        let beforeRestart = delivered().count
        #expect(beforeRestart < total, "the drain finished before the kill; the test proves nothing")

        let second = try site.startDaemon()
        #expect(await Eventually.wait(timeout: .seconds(30)) { Set(delivered()).count == total }, "\(second.text)")
        let all = delivered()
        #expect(Set(all) == Set(0..<total))
        // In order within each run; a replay starts again at the oldest unacknowledged row.
        let afterRestart = Array(all[beforeRestart...])
        #expect(afterRestart == afterRestart.sorted())
        let duplicates = all.count - Set(all).count
        #expect(duplicates < 150)   // at most what was in flight when the process died
        #expect(second.text.contains("outbox holds"))
        // Every row is deleted once its PUBACK is back.
        let state = site.fixture.directory.file("state")
        #expect(await Eventually.wait(timeout: .seconds(20)) { (try? Outbox(store: StateStore(directory: state)).count) == 0 })
        second.signal(SIGTERM)
        #expect(await second.waitForExit(timeout: .seconds(15)) == 0, "\(second.text.suffix(3000))")
    }
}
