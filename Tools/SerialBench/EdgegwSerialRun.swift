import Config
import Foundation
import Gateway
import GatewayCore
import Logging
import Serial
import SerialFraming

/// A sink that only counts, and notes when the first and the last report came, so the
/// measurement is edgegw's serial path itself: port thread, framer, product codec, report queue.
final class CountingSink: UplinkSink, @unchecked Sendable {
    struct Tally {
        var reports = 0
        /// Reports that are not the sample sensor's reading (a codec or routing mistake).
        var unexpected = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
    }

    let expectedService: String
    let tally = Locked(Tally())

    init(expectedService: String) { self.expectedService = expectedService }

    func report(nodeId: String, services: [ServiceReport]) async {
        let now = ContinuousClock.now
        let expected = services.count == 1 && services[0].serviceId == expectedService
        tally.withLock {
            $0.reports += 1
            if !expected { $0.unexpected += 1 }
            if $0.first == nil { $0.first = now }
            $0.last = now
        }
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {}
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {}
}

/// edgegw's path: a `SerialService` with one unsolicited device on `path`, its node, product,
/// address and `[framing]` read from a device file (the sample's), its port set in code.
enum EdgegwSerialRun {
    struct Result {
        var tally: CountingSink.Tally
        var seconds: Double
        var cpuSeconds: Double
        var counters: SerialPortCounters
        var droppedReports: Int
        var complete: Bool
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The device the sample file declares, on `path` at `baud` 8N1, reporting on its own.
    static func device(file: String, path: String, baud: Int) throws -> SerialDeviceConfig {
        let document: ConfigDocument
        switch TOMLDocumentParser.load(path: file) {
        case .success(let loaded): document = loaded
        case .failure(let problem): throw Failure(description: "\(problem)")
        }
        let diagnostics = ConfigDiagnostics()
        let reader = ConfigReader(document: document, diagnostics: diagnostics)
        let nodeId = reader.nonEmptyString("node_id")
        let productId = reader.nonEmptyString("product_id")
        let address = reader.int("address", required: false, range: SerialLimits.addresses)
        let framing = reader.table("framing", required: true).flatMap { FramingSpec.parse($0) }
        guard diagnostics.all.isEmpty, let nodeId, let productId, let framing, let line = LineSettings(baud: baud) else {
            throw Failure(description: "\(file): " + diagnostics.all.map { "\($0)" }.joined(separator: "; "))
        }
        return SerialDeviceConfig(nodeId: nodeId, productId: productId, port: SerialPortSettings(device: path, line: line),
                                  framing: framing, address: address.map { UInt8($0) }, file: file)
    }

    static func run(device: SerialDeviceConfig, productsDirectory: String, expectedService: String,
                    reports target: Int, stop: StopRule) async throws -> Result {
        let (codecs, problems) = ProductCodecs.load(productsDirectory: productsDirectory)
        guard problems.isEmpty else { throw Failure(description: problems.joined(separator: "; ")) }
        var logger = Logger(label: "edgegw.serial.bench")
        logger.logLevel = .warning
        let sink = CountingSink(expectedService: expectedService)
        let service = SerialService(devices: [device], decoder: codecs, encoder: codecs, sink: sink, logger: logger)
        let task = Task { try await service.run() }
        let opening = ContinuousClock.now
        while service.stats.first?.open != true {
            guard ContinuousClock.now - opening < .seconds(10) else {
                task.cancel()
                await service.finish()
                throw Failure(description: "\(device.port.device) did not open within 10 s")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        announceReady()
        let cpuStart = CPUTime.now()
        let start = ContinuousClock.now
        var tally = sink.tally.withLock { $0 }
        while tally.reports < target {
            let now = ContinuousClock.now
            if now - start >= stop.timeout { break }
            if let last = tally.last, now - last >= stop.idle { break }
            try? await Task.sleep(for: .milliseconds(100))
            tally = sink.tally.withLock { $0 }
        }
        let cpu = CPUTime.now() - cpuStart
        let counters = service.stats.first?.counters ?? SerialPortCounters()
        let dropped = service.droppedReports
        await service.finish()
        task.cancel()
        _ = try? await task.value
        tally = sink.tally.withLock { $0 }
        let seconds = if let first = tally.first, let last = tally.last { (last - first).seconds } else { 0.0 }
        return Result(tally: tally, seconds: seconds, cpuSeconds: cpu, counters: counters, droppedReports: dropped,
                      complete: tally.reports >= target)
    }
}
