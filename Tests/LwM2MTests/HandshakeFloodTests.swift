import Foundation
import GatewayCore
@testable import LwM2M
import LwM2MSimulator
import Logging
import Testing
import TestSupport

/// Counts the lines a logger writes and keeps those with a NUL byte.
final class CountingLogHandler: LogHandler, @unchecked Sendable {
    final class Store: @unchecked Sendable {
        let lock = NSLock()
        var lines = 0
        var withNUL: [String] = []
        var sample: [String] = []
    }
    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    init(_ store: Store) { self.store = store }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let line = "\(event.level) \(event.message) \(event.metadata ?? [:])"
        store.lock.withLock {
            store.lines += 1
            if line.utf8.contains(0) { store.withNUL.append(line) }
            if store.sample.count < 40 { store.sample.append(line) }
        }
    }
}

@Suite(.serialized) struct HandshakeFloodTests {
    static func randomKey() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    /// A module that gave up a handshake with a wrong key, then the right one from the same
    /// address and port (a reboot, or another module behind the same NAT mapping).
    @Test func rightDeviceFromThePortOfAFailedHandshakeRegistersAtOnce() async throws {
        let port = FreePort.next(udp: true)
        let nodeId = "861234567890810"
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = 3
        settings.coapThreads = 2
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([
            NBIoTDevice(nodeId: nodeId, productId: "meter", psk: Array("0123456789abcdef".utf8)),
        ]))
        let events = EventRecorder(server.events)
        try server.start()
        defer { server.stop() }
        let local = FreePort.next(udp: true)
        let uri = "coaps://127.0.0.1:\(port)/rd?ep=\(nodeId)&lt=300&b=U"
        let wrong = try ChildProcess("coap-client-gnutls", ["-p", "\(local)", "-u", nodeId, "-k", "wrongwrongwrong1", "-m", "post",
                                                           "-e", "</19/0>", "-B", "30", uri])
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.identitiesAccepted == 1 })
        try await Task.sleep(for: .milliseconds(300)) // its Finished is in (and refused)
        wrong.signal(SIGKILL) // a module that dies sends nothing more
        _ = await wrong.waitForExit()
        let start = ContinuousClock.now
        let right = try ChildProcess("coap-client-gnutls", ["-p", "\(local)", "-u", nodeId, "-k", "0123456789abcdef", "-m", "post",
                                                           "-e", "</19/0>", "-B", "10", uri])
        defer { right.stop() }
        let registered = await events.first(timeout: .seconds(4)) { if case .registered = $0 { true } else { nil } }
        print("same port after a failed handshake: registered \(registered == true) after \(start.duration(to: .now)); \(server.counters)")
        #expect(registered == true)
        #expect(await Eventually.wait(timeout: .seconds(2)) { server.counters.handshakesRestarted == 1 })
    }

    /// 300 bad handshakes a second (wrong keys of known identities, unknown identities) for 3 s on
    /// 4 CoAP threads, legitimate devices registering in between: every legitimate one is observed
    /// inside the 4 s budget, and the log stays short and clean.
    @Test func legitimateDevicesRegisterDuringAFloodAndTheLogStaysBounded() async throws {
        let port = FreePort.next(udp: true)
        let store = CountingLogHandler.Store()
        let logger = Logger(label: "edgegw.lwm2m") { _ in CountingLogHandler(store) }
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = 4
        settings.coapThreads = 4
        let goodKey = Self.randomKey()
        let legitimate = (0..<30).map { "86123456790\(String(format: "%04d", $0))" }
        let known = (0..<20).map { "86123456791\(String(format: "%04d", $0))" }
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory(
            legitimate.map { NBIoTDevice(nodeId: $0, productId: "meter", psk: goodKey) }
            + known.map { NBIoTDevice(nodeId: $0, productId: "meter", psk: Self.randomKey()) }), logger: logger)
        try server.start()
        defer { server.stop() }
        let flood = NBIoTDeviceSimulator(serverPort: port)
        try flood.start()
        defer { flood.stop() }
        let devices = NBIoTDeviceSimulator(serverPort: port)
        let deviceEvents = EventRecorder(devices.events)
        try devices.start()
        defer { devices.stop() }

        let floodStart = ContinuousClock.now
        var bad = 0
        for tick in 0..<300 { // 10 ms ticks, 3 bad handshakes each
            for _ in 0..<3 {
                let identity = bad % 3 == 0 ? "99\(bad)" : known[bad % known.count]
                flood.register(flood.add(.init(endpoint: identity, psk: Self.randomKey())))
                bad += 1
            }
            if tick % 10 == 0 { devices.register(devices.add(.init(endpoint: legitimate[tick / 10], psk: goodKey))) }
            try await Task.sleep(until: floodStart + .milliseconds(10 * (tick + 1)))
        }
        let floodSeconds = floodStart.duration(to: .now)
        _ = await deviceEvents.first(timeout: .seconds(6)) { _ in
            deviceEvents.all.filter { if case .observed = $0 { true } else { false } }.count == legitimate.count ? true : nil
        }
        let observed = deviceEvents.all.compactMap { if case .observed(let device, _, let since, _) = $0 { (device, since) } else { nil } }
        let slowest = observed.map(\.1).max() ?? .zero
        let counters = server.counters
        print("flood: \(bad) bad handshakes in \(floodSeconds); legitimate observed \(Set(observed.map(\.0)).count)/\(legitimate.count), slowest \(slowest); log lines \(store.lock.withLock { store.lines }); counters \(counters)")
        for line in store.lock.withLock({ store.sample }) { print("  log: \(line)") }
        #expect(Set(observed.map(\.0)).count == legitimate.count)
        #expect(slowest < .seconds(4))
        #expect(counters.unknownIdentities > 0 && counters.identitiesAccepted > counters.handshakesCompleted)
        let (lines, withNUL) = store.lock.withLock { (store.lines, store.withNUL) }
        // 30 registrations + 4 listeners, a few kinds of warning at 10 per 10 s, and their summaries.
        #expect(lines < 150)
        #expect(withNUL.isEmpty)
    }
}
