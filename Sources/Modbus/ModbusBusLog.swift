import Foundation
import GatewayCore
import Logging

/// What a bus says in its log about reads and points, with where they sit on the slave.
extension ModbusBus {
    func metadata(_ config: ModbusDeviceConfig, _ request: ModbusReadRequest) -> Logger.Metadata {
        ["bus": "\(id)", "node": "\(config.nodeId)", "unit": "\(config.unitId)",
         "table": "\(request.table.rawValue)", "address": "\(request.address)", "count": "\(request.count)"]
    }

    /// Where a point itself sits (not the read that carried it).
    func metadata(_ config: ModbusDeviceConfig, point index: Int) -> Logger.Metadata {
        let point = config.points[index]
        return ["bus": "\(id)", "node": "\(config.nodeId)", "unit": "\(config.unitId)", "point": "\(point.name)",
                "table": "\(point.table.rawValue)", "address": "\(point.address)", "count": "\(point.count)"]
    }

    /// A request's failure as a log line says it; a timeout names its length.
    func text(_ error: ModbusError) -> String {
        if case .timeout = error { return "\(error) (\(settings.responseTimeout.logText))" }
        return "\(error)"
    }

    func log(_ event: FailureStreak<ModbusError>.Event, _ config: ModbusDeviceConfig, _ request: ModbusReadRequest) {
        let metadata = metadata(config, request)
        switch event {
        case .started(let error):
            logger.warning("read failed: \(text(error))", metadata: metadata)
        case .changed(let error, let previous, let count):
            logger.warning("read failed: \(text(error)), after \(failedPolls(count)) with \(text(previous))", metadata: metadata)
        case .recovered(let last, let count):
            logger.notice("read answered again after \(failedPolls(count)) (\(text(last)))", metadata: metadata)
        }
    }

    func log(_ event: FailureStreak<PointCodec.DecodeError>.Event, _ config: ModbusDeviceConfig, point index: Int) {
        let point = config.points[index]
        let name = "point \(point.name) (\(point.table.rawValue) \(point.address), \(point.count) register\(point.count == 1 ? "" : "s"))"
        let metadata = metadata(config, point: index)
        switch event {
        case .started(let error):
            logger.warning("\(name) not decoded: \(error)", metadata: metadata)
        case .changed(let error, let previous, let count):
            logger.warning("\(name) not decoded: \(error), after \(failedPolls(count)) with \(previous)", metadata: metadata)
        case .recovered(let last, let count):
            logger.notice("\(name) decoded again after \(failedPolls(count)) (\(last))", metadata: metadata)
        }
    }
}

extension Duration {
    /// Seconds for a log line: "0.5 s", "0.01 s", "1.234 s" (at most three decimals).
    var logText: String {
        var text = String(format: "%.3f", seconds)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " s"
    }
}

/// "1 failed poll", "3 failed polls".
func failedPolls(_ count: Int) -> String { count == 1 ? "1 failed poll" : "\(count) failed polls" }
