import Admin
import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport

/// A trace client that reads nothing: the emitter never waits, the daemon answers others, and
/// what the client could not take is counted in `dropped` lines.
@Suite struct TraceBackpressureTests {
    final class Responder: AdminResponder {
        let tap = TraceTap()

        func status() -> AdminStatus {
            AdminStatus(version: "test", pid: getpid(), started: Date(), uptimeSeconds: 0, gatewayDeviceId: "gw",
                        cloud: .init(state: "disconnected", since: Date(), endpoint: "mqtt://127.0.0.1:1"),
                        outbox: .init(messages: 0, bytes: 0, oldestAgeSeconds: nil, dropped: 0), listeners: [],
                        children: [:], childrenByKind: [:], configFile: "test.toml", configLoaded: Date())
        }

        func devices() -> [AdminDevice] { [] }

        func trace(kind: String, target: String, capacity: Int,
                   wake: @escaping @Sendable () -> Void) -> Result<TraceSubscription, AdminRefusal> {
            .success(tap.subscribe(target: target, capacity: capacity, wake: wake))
        }
    }

    @Test func aClientThatReadsNothingLosesRecordsNotTheDaemon() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("admin.sock")
        let responder = Responder()
        var logger = Logger(label: "edgegw.admin.test")
        logger.logLevel = .error
        let server = try AdminServer(path: path, responder: responder, logger: logger)
        defer { server.stop() }

        let slow = try UnixClient(path)
        slow.send(AdminRequest(command: .trace, traceKind: "modbus", target: "tcp:bus:502").line())
        #expect(await Eventually.wait { responder.tap.isOn })

        // 20,000 records of about 1 KB, as fast as a bus could never make them.
        let total = 20_000
        let hex = [UInt8](repeating: 0xA5, count: 512).traceHex
        let started = ContinuousClock.now
        for _ in 0..<total {
            responder.tap.emit(TraceRecord(time: Date(), target: "tcp:bus:502", direction: "request", hex: hex))
        }
        let emitting = ContinuousClock.now - started
        // A waiting emitter would never finish here; the bound leaves room for a loaded machine.
        #expect(emitting < .seconds(10), "emitting took \(emitting): the emitter waited on the reader")

        // Another client is answered at once meanwhile.
        let asked = ContinuousClock.now
        let reply = try AdminClient(path: path).ask(AdminRequest(command: .status), timeout: .seconds(2))
        #expect(reply.status?.version == "test")
        #expect(ContinuousClock.now - asked < .seconds(1))

        // The slow client reads at last: every record is either there or counted as dropped.
        var received = 0, dropped = 0
        slow.read(until: .now + .seconds(5)) { line in
            if let reply = try? AdminReply.decode(line: Array(line.utf8)) {
                if reply.record != nil { received += 1 }
                dropped += reply.dropped ?? 0
            }
            return received + dropped >= total
        }
        #expect(dropped > 0, "nothing was dropped: received \(received)")
        #expect(received > 0 && received + dropped == total, "received \(received), dropped \(dropped)")
        print("trace backpressure: \(total) records emitted in \(emitting); the silent client got \(received), \(dropped) dropped")
    }
}

/// A blocking Unix stream client for the test.
final class UnixClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Hands each line to `body` until `deadline`, or until `body` returns true.
    func read(until deadline: ContinuousClock.Instant, _ body: (String) -> Bool) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while ContinuousClock.now < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            buffer += chunk[0..<n]
            var start = buffer.startIndex
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                let stop = body(String(decoding: buffer[start..<newline], as: UTF8.self))
                start = newline + 1
                if stop { return }
            }
            buffer.removeSubrange(..<start)
        }
    }
}
