import Foundation
import Testing
import TestSupport

/// `edgegw status` and `edgegw devices` against the running daemon with the cloud down, and
/// the admin socket against clients that misbehave.
@Suite(.serialized) struct AdminDaemonTests {
    /// A daemon with the cloud down (nothing listens on its port), meter-1 answering on a
    /// Modbus slave and meter-2 on a port where nothing listens.
    struct Site {
        let fixture: ConfigFixture
        let peer: ModbusPeer
        let daemon: ChildProcess
        var socket: String { fixture.directory.file("run/admin.sock") }
    }

    func start() async throws -> Site {
        let modbusPort = FreePort.next()
        let peer = try ModbusPeer(tcpPort: modbusPort, units: [1])
        #expect(await peer.ready())
        let fixture = ConfigFixture(cloudPort: Int(FreePort.next()), extra: """

            [admin]
            socket = "run/admin.sock"
            """)
        fixture.directory.write("devices/meter-1.toml", ConfigFixture.device(port: Int(modbusPort)))
        fixture.directory.write("devices/meter-2.toml", ConfigFixture.device(nodeId: "meter-2", port: Int(FreePort.next())))
        try FileManager.default.createDirectory(atPath: fixture.directory.file("run"), withIntermediateDirectories: true)
        let daemon = try ChildProcess(Paths.edgegwBinary, ["run", "--config", fixture.configPath])
        #expect(await daemon.waitForOutput("admin socket listening", timeout: .seconds(20)), "\(daemon.text)")
        return Site(fixture: fixture, peer: peer, daemon: daemon)
    }

    func edgegw(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let process = try ChildProcess(Paths.edgegwBinary, arguments)
        let status = await process.waitForExit(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        return (status, process.text)
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func statusAndDevicesWithTheCloudDown() async throws {
        let site = try await start()
        defer { site.daemon.stop(); site.peer.stop() }
        let config = ["--config", site.fixture.configPath]

        // meter-1 comes online on its slave; meter-2 goes offline (nothing answers).
        #expect(await Eventually.wait(timeout: .seconds(30), poll: .milliseconds(200)) {
            let out = (try? await edgegw(["devices", "--json"] + config))?.output ?? ""
            return out.contains("\"ONLINE\"") && out.contains("\"OFFLINE\"")
        }, "\(site.daemon.text.suffix(3000))")

        let started = ContinuousClock.now
        let (status, text) = try await edgegw(["status"] + config)
        let took = ContinuousClock.now - started
        #expect(status == 0, "\(text)")
        #expect(text.contains("cloud     disconnected since"), "\(text)")
        #expect(text.contains("children  2: 1 online, 1 offline"), "\(text)")
        #expect(text.contains("admin unix \(site.socket)"), "\(text)")
        #expect(text.contains("config    \(site.fixture.configPath)"), "\(text)")
        // The whole process (start, connect, answer) stays well under a second with the cloud down.
        #expect(took < .seconds(5), "edgegw status took \(took)")
        print("edgegw status with the cloud down: \(took) for the whole command")

        let (jsonStatus, jsonText) = try await edgegw(["status", "--json"] + config)
        #expect(jsonStatus == 0)
        let object = try #require(try json(jsonText) as? [String: Any], "\(jsonText)")
        let cloud = try #require(object["cloud"] as? [String: Any])
        #expect(cloud["state"] as? String == "disconnected")
        #expect((cloud["lastError"] as? String)?.isEmpty == false, "\(jsonText)")
        let outbox = try #require(object["outbox"] as? [String: Any])
        #expect(outbox["messages"] is Int && outbox["bytes"] is Int && outbox["dropped"] is Int, "\(jsonText)")
        #expect((object["children"] as? [String: Int]) == ["ONLINE": 1, "OFFLINE": 1])
        #expect(object["version"] is String && object["uptimeSeconds"] is Double)

        let (devicesStatus, table) = try await edgegw(["devices"] + config)
        #expect(devicesStatus == 0)
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NODE ID") == true && lines.count == 4, "\(table)")
        let meter2 = try #require(lines.first { $0.hasPrefix("meter-2") })
        #expect(meter2.contains("OFFLINE") && meter2.contains("connection error"), "\(table)")

        let (_, offline) = try await edgegw(["devices", "--json", "--status", "offline"] + config)
        let offlineRows = try #require(try json(offline) as? [[String: Any]], "\(offline)")
        #expect(offlineRows.map { $0["nodeId"] as? String } == ["meter-2"])
        let meter1 = try #require(try json(try await edgegw(["devices", "--json", "--kind", "modbus", "--status", "online"] + config).output)
                                      as? [[String: Any]])
        #expect(meter1.count == 1 && meter1.first?["nodeId"] as? String == "meter-1")
        #expect(meter1.first?["lastValue"] is String && (meter1.first?["address"] as? String)?.hasSuffix("unit 1") == true)
        let (_, nbiot) = try await edgegw(["devices", "--json", "--kind", "nbiot"] + config)
        #expect((try json(nbiot) as? [Any])?.isEmpty == true, "\(nbiot)")
        let (badStatus, bad) = try await edgegw(["devices", "--kind", "zigbee"] + config)
        #expect(badStatus == 1 && bad.contains("unknown kind zigbee: use modbus, serial or nbiot"), "\(bad)")

        // The socket: 0660, and no secret in any answer.
        var info = stat()
        #expect(lstat(site.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660, "mode \(String(info.st_mode & 0o777, radix: 8))")
        for answer in [text, jsonText, table, offline] {
            #expect(!answer.contains("s3cret-for-tests"))
        }

        site.daemon.signal(SIGTERM)
        #expect(await site.daemon.waitForExit(timeout: .seconds(20)) == 0)
        #expect(!FileManager.default.fileExists(atPath: site.socket), "the socket file is removed at the stop")
        let (downStatus, down) = try await edgegw(["status"] + config)
        #expect(downStatus == 1 && down.contains("edgegw is not running: nothing answers on \(site.socket)"), "\(down)")
        // A configuration file that is not there: a failure, not a quiet success.
        for command in ["status", "devices"] {
            let (missingStatus, missing) = try await edgegw([command, "--config", "/nonexistent/edgegw.toml"])
            #expect(missingStatus == 1 && missing.contains("/nonexistent/edgegw.toml"), "\(command): \(missing)")
        }
    }

    @Test func aSlowGarbageOrHugeClientDoesNotBlockAGoodOne() async throws {
        let site = try await start()
        defer { site.daemon.stop(); site.peer.stop() }
        // A slowloris (half a request, then silence), garbage, and a request of 64 KiB without a newline.
        let slow = try RawClient(site.socket)
        slow.send(Array("{\"command\":".utf8))
        let garbage = try RawClient(site.socket)
        garbage.send(Array("GET / HTTP/1.1\r\n".utf8))
        let huge = try RawClient(site.socket)
        huge.send([UInt8](repeating: 0x41, count: 65536))
        let idle = (0..<10).compactMap { _ in try? RawClient(site.socket) }

        let started = ContinuousClock.now
        let good = try RawClient(site.socket)
        good.send(Array("{\"command\":\"status\"}\n".utf8))
        let answer = good.readAll(timeout: .seconds(2))
        let took = ContinuousClock.now - started
        #expect(answer.contains("\"status\":{"), "\(answer)")
        #expect(took < .milliseconds(1000), "a good request took \(took) beside misbehaving clients")
        print("status beside a slow, a garbage, a huge and 10 idle clients: \(took)")

        #expect(garbage.readAll(timeout: .seconds(2)).contains("\"error\":\"not a request"))
        #expect(huge.readAll(timeout: .seconds(2)).contains("request longer than 4096 bytes"))
        // The slow client is cut off at its deadline (2 s), the idle ones too.
        let cut = ContinuousClock.now
        #expect(slow.readAll(timeout: .seconds(5)).isEmpty)
        #expect(ContinuousClock.now - cut < .seconds(4))
        for client in idle { #expect(client.readAll(timeout: .seconds(3)).isEmpty) }
        #expect(site.daemon.isRunning)
        #expect(try await edgegw(["status", "--config", site.fixture.configPath]).status == 0)
    }
}

/// A Unix stream client that sends bytes as told, for clients that misbehave.
final class RawClient {
    let fd: Int32

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

    /// Everything until the daemon closes or `timeout` passes.
    func readAll(timeout: Duration) -> String {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = ContinuousClock.now.duration(to: deadline)
            guard poll(&p, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))) > 0 else { break }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
