import Foundation
import LwM2M
import Testing
import TestSupport

/// The two PSK suites the platform names (spec lwm2m-coap §4.5), each offered alone by OpenSSL's
/// `s_client`, must complete a DTLS 1.2 handshake with the server's per-identity key.
@Suite(.serialized) struct CipherSuiteTests {
    @Test(arguments: ["PSK-AES128-CCM8", "PSK-AES128-CBC-SHA256"])
    func clientOfferingOnlyOneSuiteCompletesTheHandshake(suite: String) async throws {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let hex = key.map { String(format: "%02x", $0) }.joined()
        let (server, port) = try LwM2MServer.startedOnLoopback([NBIoTDevice(nodeId: "863000000000001", productId: "meter", psk: key)])
        defer { server.stop() }

        let client = try ChildProcess("openssl", ["s_client", "-dtls1_2", "-cipher", suite, "-psk_identity", "863000000000001",
                                                  "-psk", hex, "-connect", "127.0.0.1:\(port)", "-quiet"])
        defer { client.stop() }
        let connected = await Eventually.wait(timeout: .seconds(5)) { server.counters.handshakesCompleted == 1 }
        #expect(connected, "s_client output: \(client.text)")
        #expect(server.counters.unknownIdentities == 0)
    }

    @Test func wrongKeyFromOpenSSLDoesNotComplete() async throws {
        let (server, port) = try LwM2MServer.startedOnLoopback([
            NBIoTDevice(nodeId: "863000000000002", productId: "meter", psk: Array(repeating: 7, count: 16)),
        ])
        defer { server.stop() }
        let client = try ChildProcess("openssl", ["s_client", "-dtls1_2", "-cipher", "PSK-AES128-CCM8", "-psk_identity", "863000000000002",
                                                  "-psk", String(repeating: "08", count: 16), "-connect", "127.0.0.1:\(port)", "-quiet"])
        defer { client.stop() }
        _ = await client.waitForExit(timeout: .seconds(3))
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.identitiesAccepted >= 1 })
        #expect(server.counters.handshakesCompleted == 0)
    }
}
