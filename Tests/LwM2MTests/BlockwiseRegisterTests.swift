import Foundation
import GatewayCore
@testable import LwM2M
import Testing
import TestSupport

/// Register requests too long for one datagram: block-wise (Block1, sent by libcoap's own
/// `coap-client`, an implementation that shares no code with the server's handlers) and in one
/// oversized datagram.
@Suite(.serialized) struct BlockwiseRegisterTests {
    static let key = "0123456789abcdef"

    static func server(nodeId: String, plain: Bool = false) throws -> (LwM2MServer, EventRecorder<LwM2MServerEvent>, UInt16) {
        let port = FreePort.next(udp: true)
        var settings = LwM2MServerSettings(dtlsListeners: plain ? [] : [.init(host: "127.0.0.1", port: port)],
                                           plainListeners: plain ? [.init(host: "127.0.0.1", port: port)] : [])
        settings.libcoapLogLevel = 3
        settings.coapThreads = 1
        if plain { settings.autoProvisionProductId = "meter" }
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([
            NBIoTDevice(nodeId: nodeId, productId: "meter", psk: Array(key.utf8)),
        ]))
        let events = EventRecorder(server.events)
        try server.start()
        return (server, events, port)
    }

    static func objectList(_ count: Int) -> [String] { (0..<count).map { "/3303/\($0)" } + ["/t/d"] }
    /// About 40 bytes a link (the parser keeps at most 64 links, and drops the attributes).
    static func body(_ links: [String]) -> String { links.map { "<\($0)>;rt=\"urn:oma:lwm2m:ext:3303\"" }.joined(separator: ",") }

    static func coapClient(port: UInt16, nodeId: String, links: [String], block: Int) throws -> ChildProcess {
        let body = body(links)
        return try ChildProcess("coap-client-gnutls", ["-b", "\(block)", "-u", nodeId, "-k", key, "-m", "post", "-t", "40",
                                                      "-e", body, "-B", "5", "coaps://127.0.0.1:\(port)/rd?ep=\(nodeId)&lt=300&b=U"])
    }

    @Test func blockwiseRegisterWith64ByteBlocksEndsWithTheWholeObjectList() async throws {
        let nodeId = "861234567890801"
        let (server, events, port) = try Self.server(nodeId: nodeId)
        defer { server.stop() }
        let links = Self.objectList(30) // 1,179 bytes: 19 blocks of 64
        let client = try Self.coapClient(port: port, nodeId: nodeId, links: links, block: 64)
        defer { client.stop() }
        let info = await events.first(timeout: .seconds(5)) { if case .registered(let info) = $0 { info } else { nil } }
        #expect(info?.objectLinks == links)
        #expect(info?.resources.uplink == "/t/d")
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.blocksReceived == (Self.body(links).utf8.count + 63) / 64 })
        #expect(server.counters.registrations == 1)
    }

    @Test func blockwiseRegisterLongerThanTheLimitGets413() async throws {
        let nodeId = "861234567890802"
        let (server, _, port) = try Self.server(nodeId: nodeId)
        defer { server.stop() }
        let links = Self.objectList(60) // 2,350 bytes
        let client = try Self.coapClient(port: port, nodeId: nodeId, links: links, block: 256)
        defer { client.stop() }
        _ = await client.waitForExit(timeout: .seconds(8))
        print("coap-client: \(client.text)")
        #expect(client.text.contains("4.13"))
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.registrationsRefused == 1 })
        #expect(server.counters.registrations == 0)
    }

    @Test func oneDatagramRegisterOf2000BytesGets413AndOf1400BytesIsTakenWhole() async throws {
        let (server, events, port) = try Self.server(nodeId: "861234567890803", plain: true)
        defer { server.stop() }
        let long = Array(Self.body(Self.objectList(60)).utf8.prefix(2000))
        let answer = try #require(HostileInputTests.exchange(HostileInputTests.register(queries: ["ep=1"], payload: long), port: port))
        #expect(answer[1] == 0x8D) // 4.13
        // Block1 (SZX 6) and Size1 = 2,048 after the 4-byte token.
        #expect(Array(answer[8..<16]) == [0xD1, 14, 6, 0xD2, 20, 0x08, 0x00, 0xFF])
        #expect(await Eventually.wait(timeout: .seconds(5)) { server.counters.oversizedDatagrams == 1 })

        let links = Self.objectList(35) // 1,374 bytes
        let body = Array(Self.body(links).utf8)
        #expect(body.count > 1300)
        let created = HostileInputTests.exchange(HostileInputTests.register(queries: ["ep=861234567890899"], payload: body), port: port)
        #expect(created?[1] == 0x41) // 2.01
        let info = await events.first(timeout: .seconds(5)) { if case .registered(let info) = $0 { info } else { nil } }
        #expect(info?.objectLinks == links)
    }
}
