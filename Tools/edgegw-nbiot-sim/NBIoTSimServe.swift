import ArgumentParser
import Bootstrap
import Foundation
import Gateway
import GatewayCore
import Logging
import LwM2M
import LwM2MSimulator
#if canImport(Glibc)
import Glibc
#endif

/// A bare edgegw LwM2M server (no cloud) with devices derived from a seed, for load runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run edgegw's LwM2M server alone for the storm devices; prints counters on SIGTERM/SIGINT.")
    @Option var host = "127.0.0.1"
    @Option var port: UInt16 = 5684
    @OptionGroup var options: StormOptions
    @Option(help: "Handshakes in progress allowed (libcoap default 100).") var maxHandshakes = 4096
    @Option(help: "SO_RCVBUF bytes.") var receiveBuffer = LwM2MServerSettings.defaultReceiveBufferBytes
    @Option(help: "Sockets sharing the listener address (SO_REUSEPORT), per CoAP thread.") var listenerSockets = LwM2MServerSettings.defaultSocketsPerListener
    @Option(help: "CoAP threads (libcoap contexts).") var coapThreads = LwM2MServerSettings.defaultCoAPThreads
    @Option(help: "Product files: notifications then go through edgegw's LwM2M service and the product's codec, and are counted where they would be queued for the cloud.")
    var products: String?
    @Option(help: "Product id of the storm devices (with --products).") var product = "bench"
    @Option(help: "Also serve LwM2M bootstrap here (DTLS-PSK with each device's bootstrap key); it writes this server's account.")
    var bootstrapPort: UInt16?

    func run() async throws {
        raiseFileLimit()
        let devices = options.serverDevices(productId: product)
        var bootstrap: BootstrapServer?
        if let bootstrapPort {
            let server = BootstrapServer(settings: BootstrapServerSettings(dtlsListeners: [.init(host: host, port: bootstrapPort)]),
                                         provider: StormBootstrapProvider(options: options, lwm2mPort: port),
                                         logger: StormOptions.quietServerLogger())
            try server.start()
            bootstrap = server
        }
        defer {
            if let bootstrap {
                FileHandle.standardOutput.write(Data("BOOTSTRAP \(bootstrap.counters)\n".utf8))
                bootstrap.stop()
            }
        }
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: host, port: port)])
        settings.maxHandshakesInProgress = maxHandshakes
        settings.receiveBufferBytes = receiveBuffer
        settings.socketsPerListener = listenerSockets
        settings.coapThreads = coapThreads
        let logger = StormOptions.quietServerLogger()
        let directory = StaticDeviceDirectory(devices)
        let server = LwM2MServer(settings: settings, directory: directory, logger: logger)
        let reports = ReportCounter()
        let drain: Task<Void, Never>
        if let products {
            let (codecs, problems) = ProductCodecs.load(productsDirectory: products)
            for problem in problems { FileHandle.standardError.write(Data("products: \(problem)\n".utf8)) }
            let service = LwM2MService(server: server, directory: directory, decoder: codecs, encoder: codecs, sink: reports, logger: logger)
            drain = Task { try? await service.run() }
            while server.receiveBufferSizes.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        } else {
            try server.start()
            drain = Task { for await _ in server.events {} }
        }
        // Unbuffered, so a script waiting for READY sees it at once.
        FileHandle.standardOutput.write(Data("READY port=\(port) devices=\(options.devices) rcvbuf=\(server.receiveBufferSizes)\n".utf8))
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            for source in signals {
                source.setEventHandler { if once.claim() { continuation.resume() } }
                source.resume()
            }
        }
        // Keeps the sources (and so the continuation) alive until here.
        for source in signals { source.cancel() }
        FileHandle.standardOutput.write(Data("COUNTERS \(server.counters)\nKERNEL udp RcvbufErrors=\(LwM2MServer.kernelUDPReceiveBufferErrors ?? -1)\n".utf8))
        if products != nil { FileHandle.standardOutput.write(Data("REPORTS \(reports.summary)\n".utf8)) }
        drain.cancel()
        server.stop()
    }
}

/// Where the daemon queues a child's report for the cloud, this counts it and keeps the times of
/// the first and the last.
final class ReportCounter: UplinkSink, @unchecked Sendable {
    private let state = Locked<(count: Int, properties: Int, first: ContinuousClock.Instant?, last: ContinuousClock.Instant?)>((0, 0, nil, nil))

    func report(nodeId: String, services: [ServiceReport]) async {
        let now = ContinuousClock.now
        let properties = services.reduce(0) { $0 + $1.properties.count }
        state.withLock {
            $0.count += 1
            $0.properties += properties
            if $0.first == nil { $0.first = now }
            $0.last = now
        }
    }
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {}
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {}

    var summary: String {
        state.withLock { s in
            let span = s.first.flatMap { first in s.last.map { first.duration(to: $0) } } ?? .zero
            let seconds = span.seconds
            let rate = s.count > 1 && seconds > 0 ? Double(s.count - 1) / seconds : 0
            return String(format: "decoded=%d properties=%d first_to_last_s=%.3f per_s=%.0f", s.count, s.properties, seconds, rate)
        }
    }
}

final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool { lock.withLock { defer { claimed = true }; return !claimed } }
}

/// Lines for `coap-server-gnutls -i FILE` so the stock server knows the same keys.
