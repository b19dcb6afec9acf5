import Foundation
import GatewayCore
import Logging
import Modbus

/// A sink that only counts, so the measurement is the polling path itself.
final class CountingSink: UplinkSink, @unchecked Sendable {
    private let lock = NSLock()
    private var reports = 0
    var reportCount: Int { lock.withLock { reports } }
    func report(nodeId: String, services: [ServiceReport]) async { lock.withLock { reports += 1 } }
    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {}
    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {}
}

/// edgegw's path: a ModbusService polling one device whose map is `reads` × `count` uint16
/// registers with no pause between cycles; registers/s from the bus counters.
enum EdgegwPollLoop {
    static func run(host: String, port: Int, count: Int, reads: Int, warmUp: Double, seconds: Double) async -> PhaseResult? {
        let points = (0..<(count * reads)).map { address in
            ModbusPoint(name: "r\(address)", serviceId: "bench", property: "r\(address)", table: .holding,
                        address: address, type: .uint16)
        }
        let device = ModbusDeviceConfig(nodeId: "bench-1", productId: "bench", transport: .tcp(host: host, port: port),
                                        unitId: 1, pollGroups: [ModbusPollGroup(name: "all", interval: .zero)],
                                        points: points, maxGapRegisters: 0, maxReadRegisters: count)
        var logger = Logger(label: "edgegw.modbus.bench")
        logger.logLevel = .warning
        let service = ModbusService(settings: ModbusSettings(fullReportInterval: .seconds(3600)), devices: [device],
                                    products: [:], sink: CountingSink(), logger: logger)
        let task = Task { try await service.run() }
        // Warm up: connect and poll before the clock starts.
        try? await Task.sleep(for: .seconds(warmUp))
        let before = service.diagnostics().buses.first?.counters.itemsRead ?? 0
        let cpuStart = CPUTime.now()
        let start = Date()
        try? await Task.sleep(for: .seconds(seconds))
        let after = service.diagnostics().buses.first?.counters.itemsRead ?? 0
        let cpu = CPUTime.now() - cpuStart
        let elapsed = Date().timeIntervalSince(start)
        task.cancel()
        _ = try? await task.value
        guard after > before else { return nil }
        return PhaseResult(registersPerSecond: Double(after - before) / elapsed, cpuPerThousand: cpu * 1e9 / Double(after - before))
    }
}
