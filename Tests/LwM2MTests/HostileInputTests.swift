import Foundation
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Malformed CoAP, registrations without `ep`, oversized object lists and garbage on the DTLS port:
/// answered with the right code or dropped, and a legitimate device still registers.
@Suite(.serialized) struct HostileInputTests {
    /// Sends one datagram and returns the answer (or nil after 1 s).
    static func exchange(_ bytes: [UInt8], port: UInt16, waitMicroseconds: Int = 1_000_000) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: waitMicroseconds / 1_000_000, tv_usec: waitMicroseconds % 1_000_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer.prefix(count)) : nil
    }

    /// CON POST /rd with the given queries and payload, token 0xA1B2C3D4.
    static func register(queries: [String], payload: [UInt8] = []) -> [UInt8] {
        // A fresh message id each time: the kernel may hand out the same source port again.
        var bytes: [UInt8] = [0x44, 0x02, UInt8.random(in: 0...255), UInt8.random(in: 0...255), 0xA1, 0xB2, 0xC3, 0xD4]
        bytes += [0xB2] + Array("rd".utf8) // Uri-Path (11)
        var last = 11
        for query in queries {
            let value = Array(query.utf8)
            // Uri-Query (15); lengths of 13 and more take one extra byte.
            bytes += value.count < 13 ? [UInt8((15 - last) << 4 | value.count)] : [UInt8((15 - last) << 4 | 13), UInt8(value.count - 13)]
            bytes += value
            last = 15
        }
        if !payload.isEmpty { bytes += [0xFF] + payload }
        return bytes
    }

    @Test func badRequestsGetTheirCodesAndDevicesStillRegister() async throws {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let dtlsPort = FreePort.next(udp: true)
        let plainPort = FreePort.next(udp: true)
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: dtlsPort)],
                                           plainListeners: [.init(host: "127.0.0.1", port: plainPort)])
        settings.libcoapLogLevel = 2
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([
            NBIoTDevice(nodeId: "861234567890300", productId: "meter", psk: key),
        ]))
        try server.start()
        defer { server.stop() }

        // No ep: 4.00.
        #expect(Self.exchange(Self.register(queries: ["lt=300"]), port: plainPort)?[1] == 0x80)
        // Unknown endpoint over plain CoAP: 4.03.
        #expect(Self.exchange(Self.register(queries: ["ep=1"]), port: plainPort)?[1] == 0x83)
        // A secure device over plain CoAP: 4.03.
        #expect(Self.exchange(Self.register(queries: ["ep=861234567890300"]), port: plainPort)?[1] == 0x83)
        // A datagram longer than libcoap reads: 4.13 (BlockwiseRegisterTests has the details).
        let big = [UInt8](repeating: 0x41, count: RegistrationRequest.maxObjectListBytes + 1)
        #expect(Self.exchange(Self.register(queries: ["ep=1"], payload: big), port: plainPort)?[1] == 0x8D)
        // Bad lifetime: 4.00.
        #expect(Self.exchange(Self.register(queries: ["ep=1", "lt=-5"]), port: plainPort)?[1] == 0x80)
        // Unknown path: 4.04.
        #expect(Self.exchange([0x40, 0x01, UInt8.random(in: 0...255), 0x07, 0xB3] + Array("foo".utf8), port: plainPort)?[1] == 0x84)
        // Update and De-register of a registration that does not exist, a path below one, and a
        // PUT: 4.04 (these paths are served by libcoap's unknown-resource handler).
        let rdZZ: [UInt8] = [0xB2] + Array("rd".utf8) + [0x02] + Array("zz".utf8)
        #expect(Self.exchange([0x40, 0x02, UInt8.random(in: 0...255), 0x08] + rdZZ, port: plainPort)?[1] == 0x84)
        #expect(Self.exchange([0x40, 0x04, UInt8.random(in: 0...255), 0x09] + rdZZ, port: plainPort)?[1] == 0x84)
        #expect(Self.exchange([0x40, 0x02, UInt8.random(in: 0...255), 0x0A] + rdZZ + [0x01] + Array("x".utf8), port: plainPort)?[1] == 0x84)
        #expect(Self.exchange([0x40, 0x03, UInt8.random(in: 0...255), 0x0B] + rdZZ, port: plainPort).map { $0[1] >> 5 != 2 } ?? true)
        // Garbage: no answer needed, no crash.
        for length in [0, 1, 3, 4, 13, 14, 100, 1400] {
            let junk = (0..<length).map { _ in UInt8.random(in: 0...255) }
            _ = Self.exchange(junk, port: plainPort, waitMicroseconds: 50_000)
            _ = Self.exchange(junk, port: dtlsPort, waitMicroseconds: 50_000)
        }
        // A ClientHello-looking record that is truncated garbage.
        _ = Self.exchange([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1, 0, 0], port: dtlsPort, waitMicroseconds: 50_000)

        let simulator = NBIoTDeviceSimulator(serverPort: dtlsPort)
        let events = EventRecorder(simulator.events)
        try simulator.start()
        defer { simulator.stop() }
        simulator.register(simulator.add(.init(endpoint: "861234567890300", psk: key)))
        let observed = await events.first { if case .observed(0, _, _, let latency) = $0 { latency } else { nil } }
        #expect(try #require(observed) < .seconds(1))
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.registrationsRefused >= 4 })
    }
}

extension HostileInputTests {
    @Test func legitimateDeviceRegistersInsideTheBudgetDuringABadPSKFlood() async throws {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let (server, port) = try LwM2MServer.startedOnLoopback([
            NBIoTDevice(nodeId: "861234567890500", productId: "meter", psk: key),
            NBIoTDevice(nodeId: "861234567890501", productId: "meter", psk: key),
        ], libcoapLogLevel: 2)
        defer { server.stop() }
        let flood = NBIoTDeviceSimulator(serverPort: port)
        try flood.start()
        defer { flood.stop() }
        // 150 unknown identities and 50 wrong keys, all at once.
        for index in 0..<200 {
            let device = flood.add(.init(endpoint: index < 150 ? "99\(index)" : "861234567890501",
                                         psk: (0..<16).map { _ in UInt8.random(in: 0...255) }))
            flood.register(device)
        }
        let simulator = NBIoTDeviceSimulator(serverPort: port)
        let events = EventRecorder(simulator.events)
        try simulator.start()
        defer { simulator.stop() }
        simulator.register(simulator.add(.init(endpoint: "861234567890500", psk: key)))
        let observed = await events.first(timeout: .seconds(5)) { if case .observed(0, _, let sinceStart, _) = $0 { sinceStart } else { nil } }
        print("observe during a bad-PSK flood of 200: \(String(describing: observed))")
        #expect(try #require(observed) < .seconds(4))
        #expect(await Eventually.wait { server.counters.unknownIdentities >= 150 })
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.registrations == 1 })
        // A burst is read in batches: libcoap walks its sessions once per batch, not per datagram.
        let counters = server.counters
        print("flood: \(counters.datagrams) datagrams, \(counters.sessionWalks) session walks")
        #expect(counters.sessionWalks < counters.datagrams)
    }
}
