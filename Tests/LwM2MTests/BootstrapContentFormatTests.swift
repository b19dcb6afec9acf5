import Foundation
import LwM2M
import LwM2MSimulator
import Testing
import TestSupport

/// The bootstrap writes in the content format the module asks for, over real DTLS-PSK on
/// 127.0.0.1: a module preferring SenML-CBOR, one preferring SenML-JSON and one naming none
/// each receive the account in that format and register with the written key (the LwM2M
/// server knows only that key, so the Observe proves the module read it).
@Suite(.serialized) struct BootstrapContentFormatTests {
    /// Bootstraps one module that asks for `preferred` and returns the Content-Format of each write it received.
    static func bootstrap(nodeId: String, preferred: UInt16?) async throws -> [String] {
        let bootstrapKey = BootstrapServerTests.randomKey()
        let site = try BootstrapServerTests.site(nodeId: nodeId, bootstrapKey: bootstrapKey, connectionKey: BootstrapServerTests.randomKey())
        defer { site.stop() }
        let device = site.simulator.add(.init(endpoint: nodeId, psk: [],
                                              bootstrap: .init(port: site.bootstrapPort, psk: bootstrapKey, preferredFormat: preferred)))
        site.simulator.bootstrap(device)
        let uri = await site.deviceEvents.first(timeout: .seconds(10)) { if case .bootstrapped(_, let uri) = $0 { uri } else { nil } }
        #expect(uri == "coaps://127.0.0.1:\(site.lwm2m.settings.dtlsListeners[0].port)", "\(site.bootstrapEvents.all)")
        let observed = await site.deviceEvents.first(timeout: .seconds(10)) { if case .observed = $0 { true } else { nil } }
        #expect(observed == true, "registered with the written key and observed: \(site.deviceEvents.all)")
        let requests = site.deviceEvents.all.compactMap { event -> String? in
            if case .bootstrapRequest(_, let method, let path, let code) = event { "\(method) \(path) \(code)" } else { nil }
        }
        #expect(requests == ["GET / 2.05", "PUT /0/1 2.04", "PUT /1/0 2.04", "POST /bs 2.04"])
        return site.deviceEvents.all.compactMap { event -> String? in
            if case .bootstrapWrite(_, let path, let format) = event { "\(path) \(format.map(String.init) ?? "-")" } else { nil }
        }
    }

    @Test func aModulePreferringSenMLCBORIsWrittenInIt() async throws {
        #expect(try await Self.bootstrap(nodeId: "861234567890421", preferred: 112) == ["/0/1 112", "/1/0 112"])
    }

    @Test func aModulePreferringSenMLJSONIsWrittenInIt() async throws {
        #expect(try await Self.bootstrap(nodeId: "861234567890422", preferred: 110) == ["/0/1 110", "/1/0 110"])
    }

    @Test func aModuleNamingNoFormatOrOneNotWrittenGetsTLV() async throws {
        #expect(try await Self.bootstrap(nodeId: "861234567890423", preferred: nil) == ["/0/1 11542", "/1/0 11542"])
        #expect(try await Self.bootstrap(nodeId: "861234567890424", preferred: 60) == ["/0/1 11542", "/1/0 11542"])
    }
}
