import Foundation
import GatewayCore
@testable import LwM2M
import Logging
import Testing
import TestSupport

/// Keeps the messages and metadata a logger writes.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    final class Store: @unchecked Sendable {
        let lock = NSLock()
        var events: [(message: String, metadata: Logger.Metadata)] = []
    }
    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    init(_ store: Store) { self.store = store }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        store.lock.withLock { store.events.append((event.message.description, event.metadata ?? [:])) }
    }
}

/// Each CoAP thread logs its own "lwm2m listening" line; the lines name their thread, so a
/// technician does not read eight identical lines as eight listeners or a repeated config.
@Suite struct ListeningLogTests {
    @Test func eachCoAPThreadsListeningLineNamesItsThread() async throws {
        let store = RecordingLogHandler.Store()
        let logger = Logger(label: "edgegw.lwm2m") { _ in RecordingLogHandler(store) }
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: FreePort.next(udp: true))])
        settings.coapThreads = 3
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory([]), logger: logger)
        try server.start()
        defer { server.stop() }
        func listening() -> [(message: String, metadata: Logger.Metadata)] {
            store.lock.withLock { store.events.filter { $0.message == "lwm2m listening" } }
        }
        #expect(await Eventually.wait(timeout: .seconds(5)) { listening().count == 3 })
        let lines = listening()
        let threads = lines.compactMap { $0.metadata["thread"].map { "\($0)" } }
        #expect(Set(threads) == ["1", "2", "3"], "\(lines.map(\.metadata))")
    }
}
