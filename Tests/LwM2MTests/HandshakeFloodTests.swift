import Foundation
import GatewayCore
@testable import LwM2M
import LwM2MSimulator
import Logging
import Testing
import TestSupport

/// Counts the lines a logger writes and keeps those with a NUL byte.
@Suite(.serialized) struct HandshakeFloodTests {
    static func randomKey() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    /// A module that gave up a handshake with a wrong key, then the right one from the same
    /// address and port (a reboot, or another module behind the same NAT mapping).
    ///
    /// What is tested needs the failed handshake still open when the right ClientHello comes. On a
    /// loaded machine starting the right client can take long enough for libcoap to end the failed
    /// one first (`handshakesFailed` 1, nothing to restart); that attempt proves nothing about the
    /// restart, so the scenario runs again on new ports, up to three times.
    @Test func rightDeviceFromThePortOfAFailedHandshakeRegistersAtOnce() async throws {
        var outcome: (registered: Bool, counters: LwM2MServerCounters)?
        for attempt in 1...3 {
            let result = try await Self.wrongThenRightKeyFromOnePort()
            outcome = result
            let endedBeforeTheRightHello = result.counters.handshakesRestarted == 0 && result.counters.handshakesFailed == 1
            guard endedBeforeTheRightHello else { break }
            print("attempt \(attempt): the failed handshake had ended before the right ClientHello came; again")
        }
        let (registered, counters) = try #require(outcome)
        #expect(registered)
        #expect(counters.handshakesRestarted == 1, "\(counters)")
    }

    /// One try of the scenario above on a server of its own: whether the right client registered
    /// within 4 s, and the server's counters once the restart had time to be counted.
    static func wrongThenRightKeyFromOnePort() async throws -> (registered: Bool, counters: LwM2MServerCounters) {
        let port = FreePort.next(udp: true)
        let nodeId = "861234567890810"
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = 3
        settings.coapThreads = 2
        // libcoap gives up a handshake after `max_retransmit` DTLS timeouts (1 s, 2 s, 4 s, …): keep
        // the failed one alive for this test even when a loaded machine is slow to start the next client.
        settings.maxRetransmit = 10
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
        _ = await Eventually.wait(timeout: .seconds(10)) { server.counters.handshakesRestarted == 1 }
        print("same port after a failed handshake: registered \(registered == true) after \(start.duration(to: .now)); \(server.counters)")
        return (registered == true, server.counters)
    }

    /// 300 bad handshakes a second (wrong keys of known identities, unknown identities) for 3 s on
    /// 4 CoAP threads, legitimate devices registering in between, five of them from the ports of
    /// handshakes that failed just before (`coap-client`): every legitimate one is served inside the
    /// 4 s budget, and the log stays short, clean and in one format. The flood comes from
    /// `edgegw-nbiot-sim storm` processes, 100 handshakes each: libcoap's GnuTLS client uses
    /// select(), which aborts a process whose descriptors pass 1,024.
    @Test func legitimateDevicesRegisterDuringAFloodAndTheLogStaysBounded() async throws {
        let port = FreePort.next(udp: true)
        let log = LogRecorder()
        let logger = log.logger(label: "edgegw.lwm2m")
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = 4
        settings.coapThreads = 4
        let goodKey = Self.randomKey()
        let legitimate = (0..<30).map { "86123456790\(String(format: "%04d", $0))" }
        let floodIMEI: UInt64 = 861_234_567_910_000
        let known = (0..<900).map { String(floodIMEI + UInt64($0)) }
        let reused = (0..<5).map { "86123456792\(String(format: "%04d", $0))" }
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory(
            legitimate.map { NBIoTDevice(nodeId: $0, productId: "meter", psk: goodKey) }
            + known.map { NBIoTDevice(nodeId: $0, productId: "meter", psk: Self.randomKey()) }
            + reused.map { NBIoTDevice(nodeId: $0, productId: "meter", psk: Array("0123456789abcdef".utf8)) }), logger: logger)
        let registeredAt = Locked<[String: ContinuousClock.Instant]>([:])
        let serverEvents = server.events
        let watcher = Task {
            for await event in serverEvents {
                if case .registered(let info) = event { registeredAt.withLock { $0[info.nodeId] = .now } }
            }
        }
        defer { watcher.cancel() }
        try server.start()
        defer { server.stop() }

        // Five modules fail a handshake with a wrong key and die without a word.
        let localPorts = reused.map { _ in FreePort.next(udp: true) }
        func client(_ index: Int, key: String) throws -> ChildProcess {
            try ChildProcess("coap-client-gnutls", ["-p", "\(localPorts[index])", "-u", reused[index], "-k", key, "-m", "post",
                                                   "-e", "</19/0>", "-B", "10",
                                                   "coaps://127.0.0.1:\(port)/rd?ep=\(reused[index])&lt=300&b=U"])
        }
        let wrong = try reused.indices.map { try client($0, key: "wrongwrongwrong1") }
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.identitiesAccepted == reused.count })
        try await Task.sleep(for: .milliseconds(300))
        for process in wrong { process.signal(SIGKILL) }
        for process in wrong { _ = await process.waitForExit() }

        let storm = URL(fileURLWithPath: Paths.edgegwBinary).deletingLastPathComponent().appendingPathComponent("edgegw-nbiot-sim").path
        var floods: [ChildProcess] = []
        defer { for process in floods { process.stop() } }
        let devices = NBIoTDeviceSimulator(serverPort: port)
        let deviceEvents = EventRecorder(devices.events)
        try devices.start()
        defer { devices.stop() }

        let floodStart = ContinuousClock.now
        var bad = 0
        var right: [ChildProcess] = []
        var rightStarted: [String: ContinuousClock.Instant] = [:]
        for tick in 0..<300 { // 10 ms ticks; 100 bad handshakes every 330 ms
            if tick % 33 == 0 && floods.count < 9 {
                // Two of three with a known identity and a wrong key (the server's keys are random), one unknown.
                let first = floods.count % 3 == 2 ? "990000000000000" : "\(floodIMEI)"
                floods.append(try ChildProcess(storm, ["storm", "--port", "\(port)", "--devices", "100", "--first-imei", first,
                                                       "--offset", "\(floods.count * 100)", "--seed", "7", "--deadline", "4",
                                                       "--threads", "1"]))
                bad += 100
            }
            if tick % 10 == 0 { devices.register(devices.add(.init(endpoint: legitimate[tick / 10], psk: goodKey))) }
            if tick % 50 == 25 {
                let index = tick / 50
                if index < reused.count {
                    rightStarted[reused[index]] = .now
                    right.append(try client(index, key: "0123456789abcdef"))
                }
            }
            try await Task.sleep(until: floodStart + .milliseconds(10 * (tick + 1)))
        }
        let floodSeconds = floodStart.duration(to: .now)
        defer { for process in right { process.stop() } }
        _ = await deviceEvents.first(timeout: .seconds(6)) { _ in
            deviceEvents.all.filter { if case .observed = $0 { true } else { false } }.count == legitimate.count ? true : nil
        }
        _ = await Eventually.wait(timeout: .seconds(4)) { registeredAt.withLock { $0.count } >= legitimate.count + reused.count }
        let observed = deviceEvents.all.compactMap { if case .observed(let device, _, let since, _) = $0 { (device, since) } else { nil } }
        let slowest = observed.map(\.1).max() ?? .zero
        let reusedTimes = reused.map { nodeId in
            registeredAt.withLock { $0[nodeId] }.flatMap { at in rightStarted[nodeId].map { $0.duration(to: at) } }
        }
        let counters = server.counters
        // The limiter lets 10 warnings of a kind through per 10 s window; a loaded machine
        // stretches the flood over more windows (+1: the windows need not start with the flood).
        let windows = Int((floodStart.duration(to: .now) / .seconds(10)).rounded(.up)) + 1
        let entries = log.entries
        let lines = entries.count
        let withNUL = entries.map(\.line).filter { $0.utf8.contains(0) }
        let libcoapLines = entries.filter { $0.text.hasPrefix("libcoap") }.count
        let unknownIdentityLines = entries.filter { $0.text.contains("unknown PSK identity") }.count
        print("flood: \(bad) bad handshakes in \(floodSeconds); legitimate observed \(Set(observed.map(\.0)).count)/\(legitimate.count), slowest \(slowest); from the ports of failed handshakes: \(reusedTimes); log lines \(lines) in \(windows) rate-limit windows (libcoap \(libcoapLines), unknown identity \(unknownIdentityLines)); counters \(counters)")
        #expect(Set(observed.map(\.0)).count == legitimate.count)
        #expect(slowest < .seconds(4))
        #expect(reusedTimes.allSatisfy { $0.map { $0 < .seconds(4) } ?? false })
        #expect(counters.unknownIdentities > 0 && counters.identitiesAccepted > counters.handshakesCompleted)
        // 35 registrations, 4 listeners, a few kinds of warning at 10 per window across all threads:
        // by the window, not by the handshake (900 of them).
        #expect(lines <= 40 + 40 * windows)
        #expect(unknownIdentityLines <= LogRateLimiter.defaultPerWindow * windows)
        #expect(libcoapLines > 0) // libcoap's own lines come through the logger
        #expect(withNUL.isEmpty)
    }
}
