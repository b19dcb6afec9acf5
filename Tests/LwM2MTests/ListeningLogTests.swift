import Foundation
import GatewayCore
@testable import LwM2M
import Logging
import Testing
import TestSupport

/// Each CoAP thread logs its own "lwm2m listening" line; the lines name their thread, so a
/// technician does not read eight identical lines as eight listeners or a repeated config.
@Suite struct ListeningLogTests {
    @Test func eachCoAPThreadsListeningLineNamesItsThread() async throws {
        let log = LogRecorder()
        let logger = log.logger(label: "edgegw.lwm2m")
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: FreePort.next(udp: true))])
        settings.coapThreads = 3
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([]), logger: logger)
        try server.start()
        defer { server.stop() }
        func listening() -> [LogRecorder.Entry] { log.entries.filter { $0.text == "lwm2m listening" } }
        #expect(await Eventually.wait(timeout: .seconds(5)) { listening().count == 3 })
        let lines = listening()
        let threads = lines.compactMap { $0.metadata["thread"].map { "\($0)" } }
        #expect(Set(threads) == ["1", "2", "3"], "\(lines.map(\.metadata))")
    }
}
