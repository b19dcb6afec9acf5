import Bootstrap
import Foundation
import Logging
import LwM2M
import Testing
import TestSupport
@testable import Gateway

/// The gateway's answers to the bootstrap server: who may bootstrap, and the account written.
@Suite struct BootstrapProviderTests {
    static let bootstrapKey: [UInt8] = Array(repeating: 0x42, count: 16)

    func provider(_ devices: [NBIoTDevice], state: TemporaryDirectory) -> (DeviceListBootstrapProvider, StaticDeviceDirectory) {
        let directory = StaticDeviceDirectory(devices)
        return (DeviceListBootstrapProvider(devices: devices, directory: directory, stateDirectory: state.path, coapsPort: 5684,
                                            logger: Logger(label: "test")), directory)
    }

    @Test func aDeviceWithoutAKeyGetsOneStoredAndTheLwM2MServerKnowsItAtOnce() throws {
        let state = TemporaryDirectory(prefix: "edgegw-bs")
        let device = NBIoTDevice(nodeId: "861234567890501", productId: "m", bootstrapPSK: Self.bootstrapKey, lifetime: 3600)
        let (provider, directory) = provider([device], state: state)
        #expect(provider.bootstrapKey(identity: "861234567890501") == Self.bootstrapKey)
        #expect(provider.bootstrapKey(identity: "someone") == nil)
        #expect(directory.pskKey(identity: "861234567890501") == nil, "no connection key yet")

        let plan = try provider.plan(endpoint: "861234567890501", identity: "861234567890501", localHost: "::ffff:10.0.0.1").get()
        #expect(plan.psk.count == 16)
        #expect(plan.lifetime == 3600)
        #expect(plan.pskIdentity == Array("861234567890501".utf8))
        #expect(directory.pskKey(identity: "861234567890501") == plan.psk)
        let stored = try #require(try String(contentsOfFile: state.file("nbiot-connection-keys"), encoding: .utf8))
        #expect(stored.contains("861234567890501,"))
        // The same key on the next bootstrap.
        #expect(try provider.plan(endpoint: "861234567890501", identity: "861234567890501", localHost: "10.0.0.1").get().psk == plan.psk)
    }

    @Test func aKeyIsNeverHandedToOneThatOnlyNamesTheEndpoint() {
        let state = TemporaryDirectory(prefix: "edgegw-bs")
        let device = NBIoTDevice(nodeId: "861234567890502", productId: "m", psk: Array(repeating: 1, count: 16), bootstrapPSK: Self.bootstrapKey)
        let (provider, _) = provider([device, NBIoTDevice(nodeId: "861234567890503", productId: "m", bootstrapPSK: Self.bootstrapKey)],
                                     state: state)
        for identity in [nil, "861234567890503", "stranger"] as [String?] {
            guard case .failure(let refusal) = provider.plan(endpoint: "861234567890502", identity: identity, localHost: "10.0.0.1") else {
                Issue.record("\(String(describing: identity)) got the account")
                continue
            }
            #expect(refusal.failure == .unauthorized)
        }
        guard case .failure(let unknown) = provider.plan(endpoint: "861234567890599", identity: "861234567890599", localHost: "10.0.0.1") else {
            Issue.record("an endpoint without an entry got an account")
            return
        }
        #expect(unknown.failure == .unauthorized)
        #expect(!FileManager.default.fileExists(atPath: state.file("nbiot-connection-keys")), "nothing generated for a refusal")
    }

    @Test func theServerURIIsTheAddressTheDeviceReachedWithTheCoapsPort() throws {
        let state = TemporaryDirectory(prefix: "edgegw-bs")
        let device = NBIoTDevice(nodeId: "861234567890504", productId: "m", psk: Array(repeating: 1, count: 16), bootstrapPSK: Self.bootstrapKey)
        let (provider, _) = provider([device], state: state)
        #expect(try provider.plan(endpoint: device.nodeId, identity: device.nodeId, localHost: "192.168.10.1").get().serverURI
                == "coaps://192.168.10.1:5684")
        #expect(try provider.plan(endpoint: device.nodeId, identity: device.nodeId, localHost: "fd00::1").get().serverURI
                == "coaps://[fd00::1]:5684")
    }
}
