import CloudLink
import Foundation
import GatewayCore
import Logging
import Store

// Cloud-path benchmark: child property reports through the durable outbox, the pump and a
// session to a local mosquitto, next to a raw libmosquitto QoS 1 loop measured in the same run.
// Usage: edgegw-bench-cloud --port P [--seconds S]   (scripts/bench-cloud.sh starts the broker)

struct Options {
    var port = 1883
    var cappedSeconds = 10.0
    var rawCount = 20_000
    var smallCount = 20_000
    var batchMessages = 400

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--port": port = Int(value) ?? port
            case "--seconds": cappedSeconds = Double(value) ?? cappedSeconds
            case "--raw-count": rawCount = Int(value) ?? rawCount
            case "--small-count": smallCount = Int(value) ?? smallCount
            case "--batch-messages": batchMessages = Int(value) ?? batchMessages
            default: FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
            }
        }
    }
}

let childrenPerBatch = 100          // the platform's limit per gateway batch report
let pointsPerChild = 5
let window = OutboxPumpSettings.defaultWindow

/// A gateway batch report of `children` children, `pointsPerChild` numeric properties each.
func batchPayload(children: Int, sequence: Int) -> [UInt8] {
    var devices: [String] = []
    devices.reserveCapacity(children)
    for child in 0..<children {
        let properties = (0..<pointsPerChild).map { "\"p\($0)\":\(Double(sequence % 1000) + Double(child) / 10)" }.joined(separator: ",")
        devices.append("{\"device_id\":\"prod_node\(String(format: "%05d", child))\",\"services\":[{\"service_id\":\"analog\",\"properties\":{\(properties)},\"event_time\":\"20261122T120000Z\"}]}")
    }
    return Array("{\"devices\":[\(devices.joined(separator: ","))]}".utf8)
}

/// One child's report as its own 200-byte message (what the raw loop sends, for the ratio).
func smallPayload(sequence: Int) -> [UInt8] {
    var text = "{\"devices\":[{\"device_id\":\"prod_node00001\",\"services\":[{\"service_id\":\"analog\",\"properties\":{\"p0\":\(sequence)}}]}]}"
    while text.utf8.count < 200 { text += " " }
    return Array(text.utf8)
}

struct PumpRun {
    var messagesPerSecond: Double
    var counters: OutboxPumpCounters
}

let quiet: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

/// Runs session + pump on a fresh database. `produce` appends rows (and may keep appending);
/// the measurement ends when `done` says so.
func measure(port: Int, settings: OutboxPumpSettings, backlog: [OutboxMessage] = [],
             produce: @escaping @Sendable (OutboxPump) async throws -> Void,
             until done: @escaping @Sendable (OutboxPumpCounters, Duration) -> Bool) async throws -> PumpRun {
    let directory = NSTemporaryDirectory() + "edgegw-bench-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try StateStore(directory: directory)
    let outbox = try Outbox(store: store)
    try outbox.append(backlog)
    let sessionSettings = CloudSessionSettings(host: "127.0.0.1", port: port, transport: .plain, maxInflight: window)
    let session = CloudSession(settings: sessionSettings, logger: quiet) {
        CloudCredentials(clientId: "bench-gateway-\(UUID().uuidString.prefix(6))", username: "bench", password: "bench")
    }
    let sessionTask = Task { await session.run() }
    for await state in session.stateChanges() { if case .connected = state { break } }
    let pump = OutboxPump(outbox: outbox, session: session, settings: settings, store: store, logger: quiet)
    let start = ContinuousClock.now
    let pumpTask = Task { await pump.run() }
    let producer = Task { try await produce(pump) }
    while !done(pump.counters, ContinuousClock.now - start) {
        try await Task.sleep(for: .milliseconds(5))
    }
    let elapsed = (ContinuousClock.now - start).seconds
    let counters = pump.counters
    producer.cancel()
    pumpTask.cancel()
    await pumpTask.value
    sessionTask.cancel()
    await sessionTask.value
    return PumpRun(messagesPerSecond: Double(counters.acknowledged) / elapsed, counters: counters)
}

func format(_ value: Double) -> String { String(format: "%.0f", value) }

let options = Options(CommandLine.arguments)
let topic = "$oc/devices/bench_gateway/sys/gateway/sub_devices/properties/report"
print("cloud path benchmark: mosquitto on 127.0.0.1:\(options.port), QoS 1, in-flight window \(window)")

// 1. Raw libmosquitto.
guard let raw = RawPublisher().run(port: options.port, count: options.rawCount, size: 200, window: window) else {
    print("raw publisher could not connect"); exit(1)
}
print("raw libmosquitto QoS 1, 200-byte messages:        \(format(raw)) msg/s")

// 2. Uncapped, one child report per 200-byte message, appended while the pump drains.
let smallCount = options.smallCount
let small = try await measure(port: options.port, settings: .unshaped, produce: { pump in
    var sequence = 0
    while sequence < smallCount {
        let rows = (0..<100).map { OutboxMessage(kind: .propertyReport, topic: topic, payload: smallPayload(sequence: sequence + $0)) }
        try pump.append(rows)
        sequence += 100
        await Task.yield()
    }
}, until: { counters, _ in counters.acknowledged >= smallCount })
print("outbox -> pump, uncapped, 200-byte messages:      \(format(small.messagesPerSecond)) msg/s  (\(String(format: "%.2f", small.messagesPerSecond / raw)) of raw)")

// 3. Uncapped, gateway batch reports of 100 children x 5 points.
let batchCount = options.batchMessages
let samplePayload = batchPayload(children: childrenPerBatch, sequence: 0)
let batch = try await measure(port: options.port, settings: .unshaped, produce: { pump in
    for sequence in stride(from: 0, to: batchCount, by: 10) {
        let rows = (0..<10).map { OutboxMessage(kind: .propertyReport, topic: topic, payload: batchPayload(children: childrenPerBatch, sequence: sequence + $0)) }
        try pump.append(rows)
        await Task.yield()
    }
}, until: { counters, _ in counters.acknowledged >= batchCount })
let batchReports = batch.messagesPerSecond * Double(childrenPerBatch)
print("outbox -> pump, uncapped, batches of \(childrenPerBatch) children (\(samplePayload.count) bytes): \(format(batch.messagesPerSecond)) msg/s = \(format(batchReports)) child reports/s = \(format(batchReports * Double(pointsPerChild))) points/s  (goal >= 100000 points/s)")

// 4. Default cap (50 msg/s, 1 MiB/s), a backlog of batches already in the outbox (as after
// an outage), measured over a steady window.
let cappedSeconds = options.cappedSeconds
let backlog = (0..<Int(cappedSeconds * 60)).map { OutboxMessage(kind: .propertyReport, topic: topic, payload: batchPayload(children: childrenPerBatch, sequence: $0)) }
let capped = try await measure(port: options.port, settings: OutboxPumpSettings(), backlog: backlog, produce: { _ in }, until: { _, elapsed in elapsed >= .milliseconds(Int64(cappedSeconds * 1000)) })
let cappedReports = capped.messagesPerSecond * Double(childrenPerBatch)
let allowed = Double(TokenBucket<ContinuousClock.Instant>.defaultMessagesPerSecond * childrenPerBatch)
print("outbox -> pump, default cap (50 msg/s, 1 MiB/s), \(Int(cappedSeconds)) s: \(format(capped.messagesPerSecond)) msg/s = \(format(cappedReports)) child reports/s = \(String(format: "%.1f", 100 * cappedReports / allowed))% of the \(format(allowed)) allowed  (goal >= 95%)")
print("ratios: small uncapped / raw = \(String(format: "%.2f", small.messagesPerSecond / raw)); batch uncapped points / raw messages = \(String(format: "%.1f", batchReports * Double(pointsPerChild) / raw)) points per raw message")
print("counters (capped run): published \(capped.counters.published), acknowledged \(capped.counters.acknowledged), replayed \(capped.counters.replayed), duplicates \(capped.counters.duplicates)")
