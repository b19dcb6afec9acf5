import Foundation
import TestSupport
import Testing
@testable import CloudLink

/// Why a ready link ended (`CloudSessionStatistics.disconnects`): the gateway's own stop, a broker
/// that goes away, a broker that turns silent past the keepalive, a broker that breaks MQTT.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CloudDisconnectReasonTests {
    /// libmosquitto 2.0's codes: 0 success, 19 keepalive, 7 connection lost, 14 errno, 8 TLS,
    /// 2 protocol, 21 malformed packet.
    @Test func libmosquittoCodesMapToReasons() {
        #expect(CloudDisconnectReason(mosquittoCode: 0) == .normal)
        #expect(CloudDisconnectReason(mosquittoCode: 19) == .keepaliveTimeout)
        #expect(CloudDisconnectReason(mosquittoCode: 7) == .connectionLost)
        #expect(CloudDisconnectReason(mosquittoCode: 14) == .connectionLost)
        #expect(CloudDisconnectReason(mosquittoCode: 8) == .connectionLost)
        #expect(CloudDisconnectReason(mosquittoCode: 2) == .protocolError)
        #expect(CloudDisconnectReason(mosquittoCode: 21) == .protocolError)
        #expect(CloudDisconnectReason.allCases.map(\.rawValue) == ["normal", "keepalive_timeout", "connection_lost", "protocol_error"])
    }

    @Test func aStoppedSessionIsNormalAndAStoppedBrokerIsALostConnection() async throws {
        let identity = TestIdentity()
        let broker = try await MosquittoBroker(users: [identity.brokerUser])
        try await broker.start()
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain)
        settings.reconnect = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(300))
        let device = RunningSession(CloudSession(settings: settings) { identity.credentials })
        #expect(await Eventually.wait { device.isConnected() })
        #expect(device.session.statistics.disconnects.isEmpty)
        await broker.stopAndWait()
        #expect(await Eventually.wait { device.session.statistics.disconnects == [.connectionLost: 1] },
                "\(device.session.statistics.disconnects)")
        try await broker.start()
        #expect(await Eventually.wait { device.isConnected() })
        await device.stop()
        #expect(device.session.statistics.disconnects == [.connectionLost: 1, .normal: 1])
        broker.stop()
    }

    @Test func aBrokerThatBreaksMQTTIsAProtocolError() async throws {
        let broker = try FakeBroker(after: "garbage")
        let statistics = try await runUntilDisconnected(broker, keepalive: 60)
        #expect(statistics.disconnects == [.protocolError: 1], "\(statistics.disconnects)\n\(broker.process.text)")
    }

    @Test func aBrokerSilentPastTheKeepaliveIsAKeepaliveTimeout() async throws {
        // libmosquitto's shortest keepalive (5 s): a PINGREQ after 5 s, the link closed 5 s later.
        let broker = try FakeBroker(after: "silence")
        let statistics = try await runUntilDisconnected(broker, keepalive: 5)
        #expect(statistics.disconnects == [.keepaliveTimeout: 1], "\(statistics.disconnects)\n\(broker.process.text)")
    }

    private func runUntilDisconnected(_ broker: FakeBroker, keepalive: Int) async throws -> CloudSessionStatistics {
        #expect(await broker.process.waitForOutput("listening"))
        var settings = CloudSessionSettings(host: "127.0.0.1", port: Int(broker.port), transport: .plain, keepalive: keepalive)
        settings.reconnect = ReconnectPolicy(initialDelay: .seconds(30), maximumDelay: .seconds(30))
        let device = RunningSession(CloudSession(settings: settings) { TestIdentity().credentials })
        #expect(await Eventually.wait(timeout: .seconds(20)) { device.session.statistics.connects == 1 })
        #expect(await Eventually.wait(timeout: .seconds(20)) { !device.session.statistics.disconnects.isEmpty })
        let statistics = device.session.statistics
        await device.stop()
        return statistics
    }
}

/// One TCP peer on 127.0.0.1 that accepts one MQTT client: CONNACK 0 to its CONNECT, then either
/// a CONNECT of its own, which no broker sends ("garbage"), or nothing at all, not even a
/// PINGRESP ("silence").
private struct FakeBroker {
    let process: ChildProcess
    let port: UInt16

    init(after behaviour: String) throws {
        port = FreePort.next()
        let script = """
            socket, time = __import__("socket"), __import__("time")
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", \(port))); server.listen(1)
            print("listening", flush=True)
            peer, _ = server.accept()
            peer.recv(4096)
            peer.sendall(bytes([0x20, 0x02, 0x00, 0x00]))
            print("connack sent", flush=True)
            if "\(behaviour)" == "garbage":
                time.sleep(0.3)
                peer.sendall(bytes([0x10, 0x00]))
            while peer.recv(4096):
                pass
            print("closed", flush=True)
            """
        process = try ChildProcess("python3", ["-c", script])
    }
}
