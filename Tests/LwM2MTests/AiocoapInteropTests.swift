import Foundation
import LwM2M
import Testing
import TestSupport

/// Interoperability with an independent CoAP/DTLS implementation: aiocoap over tinydtls
/// (which offers TLS_PSK_WITH_AES_128_CCM_8 only) registers, accepts the Observe, notifies,
/// and takes a downlink write; unprovisioned, it bootstraps first and registers with the key it
/// was written.
@Suite(.serialized) struct AiocoapInteropTests {
    @Test func aiocoapDeviceRegistersIsObservedAndReports() async throws {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let (server, port) = try LwM2MServer.startedOnLoopback([NBIoTDevice(nodeId: "867000000000001", productId: "meter", psk: key)])
        defer { server.stop() }
        let events = EventRecorder(server.events)

        let script = Paths.packageRoot + "/Tests/LwM2MTests/Interop/aiocoap_device.py"
        let device = try ChildProcess("python3", [script, "\(port)", "867000000000001", key.map { String(format: "%02x", $0) }.joined()])
        defer { device.stop() }
        #expect(await device.waitForOutput("REGISTERED 2.01 Created rd/", timeout: .seconds(15)), "\(device.text)")
        #expect(await device.waitForOutput("OBSERVED"), "\(device.text)")
        let latency = await events.first { if case .observing(_, let latency) = $0 { latency } else { nil } }
        print("aiocoap register -> observe answered: \(String(describing: latency))")
        let uplink = await events.first { if case .uplink(_, _, let payload, _) = $0 { payload } else { nil } }
        #expect(uplink == [0x01, 0x2A])

        server.send(Downlink(nodeId: "867000000000001", payload: [0x10, 0x00, 0x01], tag: 9))
        let result = await events.first { if case .downlinkResult(9, _, let result) = $0 { result } else { nil } }
        #expect(result == .acknowledged(code: 68))
        #expect(await device.waitForOutput("DOWNLINK 100001"), "\(device.text)")
    }

    /// An independent stack bootstraps: aiocoap's tinydtls client serves the bootstrap interface
    /// on its own session to the bootstrap server (Discover, TLV Writes of /0 and /1, Finish),
    /// then registers with the written URI, identity and key and is observed.
    @Test func aiocoapDeviceBootstrapsThenRegistersWithTheWrittenKey() async throws {
        let nodeId = "867000000000003"
        let bootstrapKey = BootstrapServerTests.randomKey()
        let site = try BootstrapServerTests.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: BootstrapServerTests.randomKey())
        defer { site.stop() }
        let lwm2mPort = site.lwm2m.settings.dtlsListeners[0].port
        let lwm2mEvents = EventRecorder(site.lwm2m.events)

        let script = Paths.packageRoot + "/Tests/LwM2MTests/Interop/aiocoap_bootstrap_device.py"
        let device = try ChildProcess("python3", [script, "\(site.bootstrapPort)", nodeId, bootstrapKey.map { String(format: "%02x", $0) }.joined()])
        defer { device.stop() }
        #expect(await device.waitForOutput("BOOTSTRAPPED coaps://127.0.0.1:\(lwm2mPort) identity \(nodeId) key bytes 16", timeout: .seconds(15)),
                "\(device.text)")
        let requests = device.text.split(separator: "\n").filter { $0.hasPrefix("REQUEST ") }
        #expect(requests == ["REQUEST GET / 2.05", "REQUEST PUT /0/1 2.04", "REQUEST PUT /1/0 2.04", "REQUEST POST /bs 2.04"], "\(device.text)")
        #expect(site.bootstrap.counters.finished == 1)
        #expect(await device.waitForOutput("REGISTERED 2.01 Created rd/", timeout: .seconds(15)), "\(device.text)")
        #expect(await device.waitForOutput("OBSERVED"), "\(device.text)")
        let uplink = await lwm2mEvents.first { if case .uplink(_, _, let payload, _) = $0 { payload } else { nil } }
        #expect(uplink == [0x01, 0x2A])
    }

    /// An independent stack answers 4.04 for what it does not serve: the server observes only the
    /// data resource a device announces (here a TUP module without object 19) and none when it
    /// announces none.
    @Test(arguments: [("</1/0>,</3/0>,</t/d>", "t/d", "/t/d"), ("</1/0>,</3/0>,</5/0>", nil, nil)] as [(String, String?, String?)])
    func aiocoapDeviceIsObservedOnlyOnWhatItAnnounces(objects: String, served: String?, observed: String?) async throws {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let (server, port) = try LwM2MServer.startedOnLoopback([NBIoTDevice(nodeId: "867000000000002", productId: "meter", psk: key)])
        defer { server.stop() }
        let events = EventRecorder(server.events)

        let script = Paths.packageRoot + "/Tests/LwM2MTests/Interop/aiocoap_device.py"
        var arguments = [script, "\(port)", "867000000000002", key.map { String(format: "%02x", $0) }.joined(), objects]
        if let served { arguments += [served, served] }
        let device = try ChildProcess("python3", arguments)
        defer { device.stop() }
        #expect(await device.waitForOutput("REGISTERED 2.01 Created rd/", timeout: .seconds(15)), "\(device.text)")
        let info = await events.first { if case .registered(let info) = $0 { info } else { nil } }
        #expect(info?.observedPath == observed)
        if observed != nil {
            #expect(await device.waitForOutput("OBSERVED"), "\(device.text) \(events.all)")
            let uplink = await events.first { if case .uplink(_, _, let payload, _) = $0 { payload } else { nil } }
            #expect(uplink == [0x01, 0x2A])
        } else {
            // A blind GET /19/0/0 would come back 4.04 within milliseconds.
            let refused = await events.first(timeout: .seconds(1)) { if case .observeFailed(_, let reason) = $0 { reason } else { nil } }
            #expect(refused == nil)
            #expect(server.counters.observesSent == 0)
        }
    }
}
