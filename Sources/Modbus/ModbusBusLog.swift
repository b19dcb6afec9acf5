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
        log(event, failed: "read failed", again: "read answered again", text: text, metadata: metadata(config, request))
    }

    func log(_ event: FailureStreak<PointCodec.DecodeError>.Event, _ config: ModbusDeviceConfig, point index: Int) {
        let point = config.points[index]
        let name = "point \(point.name) (\(point.table.rawValue) \(point.address), \(point.count) register\(point.count == 1 ? "" : "s"))"
        log(event, failed: "\(name) not decoded", again: "\(name) decoded again", text: { "\($0)" },
            metadata: metadata(config, point: index))
    }

    /// A run's start and change at warning, its end at notice: "<failed>: <error>[, after n
    /// failed polls with <previous>]", "<again> after n failed polls (<last>)".
    private func log<Failure: Equatable & Sendable>(_ event: FailureStreak<Failure>.Event, failed: String, again: String,
                              text: (Failure) -> String, metadata: Logger.Metadata) {
        switch event {
        case .started(let error):
            logger.warning("\(failed): \(text(error))", metadata: metadata)
        case .changed(let error, let previous, let count):
            logger.warning("\(failed): \(text(error)), after \(failedPolls(count)) with \(text(previous))", metadata: metadata)
        case .recovered(let last, let count):
            logger.notice("\(again) after \(failedPolls(count)) (\(text(last)))", metadata: metadata)
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
