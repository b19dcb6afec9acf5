import Bootstrap
import Foundation
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// The bootstrap server over real DTLS-PSK on 127.0.0.1 against a module that gets the bootstrap
/// interface wrong (`MisbehavingBootstrapDevice`): each session fails with its cause, counted, and
/// the same device then bootstraps with the project's simulator (a well-behaved module), so the
/// failure left nothing behind that stops a retry.
@Suite(.serialized) struct BootstrapFailureTests {
    typealias Site = BootstrapServerTests.Site

    /// Starts `device` against the site and waits for its session's failure; `sinceLaunch` runs
    /// from before the device's first datagram, so it is never shorter than the sequence's part.
    static func failure(of device: MisbehavingBootstrapDevice, on site: Site, nodeId: String)
        async -> (cause: BootstrapFailure, detail: String, sinceLaunch: Duration)? {
        let launched = ContinuousClock.now
        device.start()
        let failed = await site.bootstrapEvents.first { event -> (BootstrapFailure, String)? in
            if case .failed(nodeId, let cause, let detail) = event { (cause, detail) } else { nil }
        }
        return failed.map { ($0.0, $0.1, launched.duration(to: .now)) }
    }

    /// The same endpoint and bootstrap key, now on a module that answers as it should.
    static func retrySucceeds(on site: Site, nodeId: String, bootstrapKey: [UInt8]) async -> Bool {
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [], bootstrap: .init(port: site.bootstrapPort, psk: bootstrapKey)))
        site.simulator.bootstrap(device)
        let observed = await site.deviceEvents.first(timeout: .seconds(10)) { event -> Bool? in
            if case .observed(device, _, _, _) = event { true } else { nil }
        }
        return observed == true && site.bootstrap.counters.finished == 1
    }

    @Test func aDeviceThatFallsSilentFailsWithTimeoutAndBootstrapsRightAfter() async throws {
        let nodeId = "861234567890411"
        let bootstrapKey = BootstrapServerTests.randomKey()
        let site = try BootstrapServerTests.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: BootstrapServerTests.randomKey(),
                                                 requestTimeout: .seconds(1))
        defer { site.stop() }
        let device = MisbehavingBootstrapDevice(port: site.bootstrapPort, endpoint: nodeId, key: bootstrapKey,
                                                behaviour: .silentAfterBootstrapAnswer)
        defer { device.stop() }

        let failure = try #require(await Self.failure(of: device, on: site, nodeId: nodeId), "\(site.bootstrapEvents.all)")
        #expect(device.bootstrapAnswer.withLock { $0 } == "2.04")
        #expect(failure.cause == .timeout, "\(failure.detail)")
        #expect(failure.detail.contains("Discover"), "the first request of the sequence: \(failure.detail)")
        // The request timeout (1 s), not CoAP's retransmissions (which would give up after 93 s);
        // the bound leaves room for a machine loaded by the whole suite at once.
        #expect(failure.sinceLaunch >= .seconds(1) && failure.sinceLaunch < .seconds(30), "\(failure.sinceLaunch)")
        #expect(device.requests.withLock { $0 }.allSatisfy { $0.hasSuffix(" -") }, "nothing answered: \(device.requests.withLock { $0 })")
        #expect(site.bootstrap.counters.failures == [.timeout: 1])
        device.stop()

        #expect(await Self.retrySucceeds(on: site, nodeId: nodeId, bootstrapKey: bootstrapKey), "\(site.deviceEvents.all)")
        #expect(site.bootstrap.counters.failures == [.timeout: 1])
        #expect(site.bootstrap.counters.started == 2)
    }

    @Test func aDeviceThatRefusesAWriteFailsWithRequestFailedAndARetrySucceeds() async throws {
        let nodeId = "861234567890412"
        let bootstrapKey = BootstrapServerTests.randomKey()
        let site = try BootstrapServerTests.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: BootstrapServerTests.randomKey())
        defer { site.stop() }
        let device = MisbehavingBootstrapDevice(port: site.bootstrapPort, endpoint: nodeId, key: bootstrapKey, behaviour: .refusesWrites)
        defer { device.stop() }

        let failure = try #require(await Self.failure(of: device, on: site, nodeId: nodeId), "\(site.bootstrapEvents.all)")
        #expect(failure.cause == .requestFailed)
        #expect(failure.detail.contains("Write /0/1 answered 4.00"), "\(failure.detail)")
        #expect(device.requests.withLock { $0 } == ["GET / 2.05", "PUT /0/1 4.00"], "nothing sent after the refused Write")
        #expect(site.bootstrap.counters.failures == [.requestFailed: 1])
        device.stop()

        #expect(await Self.retrySucceeds(on: site, nodeId: nodeId, bootstrapKey: bootstrapKey), "\(site.deviceEvents.all)")
        #expect(site.bootstrap.counters.failures == [.requestFailed: 1])
    }

    /// Not UTF-8; text without a link; a link that never closes.
    static let malformedDiscoverAnswers: [[UInt8]] = [
        [0xFF, 0xFE, 0x00, 0x80, 0xC3, 0x28],
        Array("hello, world".utf8),
        Array(#"lwm2m="1.1",</0/0;ssid=1"#.utf8),
    ]

    @Test(arguments: malformedDiscoverAnswers)
    func aDiscoverAnswerThatIsNotALinkFormatFailsWithRequestFailed(payload: [UInt8]) async throws {
        let nodeId = "861234567890413"
        let bootstrapKey = BootstrapServerTests.randomKey()
        let site = try BootstrapServerTests.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: BootstrapServerTests.randomKey())
        defer { site.stop() }
        let device = MisbehavingBootstrapDevice(port: site.bootstrapPort, endpoint: nodeId, key: bootstrapKey,
                                                behaviour: .discoverAnswers(payload))
        defer { device.stop() }

        let failure = try #require(await Self.failure(of: device, on: site, nodeId: nodeId), "\(site.bootstrapEvents.all)")
        #expect(failure.cause == .requestFailed)
        #expect(failure.detail.contains("not a link format"), "\(failure.detail)")
        #expect(device.requests.withLock { $0 } == ["GET / 2.05"], "no Delete or Write after a Discover it cannot read")
        #expect(site.bootstrap.counters.failures == [.requestFailed: 1])
        device.stop()

        // The server is still there and serves the device.
        #expect(await Self.retrySucceeds(on: site, nodeId: nodeId, bootstrapKey: bootstrapKey), "\(site.deviceEvents.all)")
    }
}
