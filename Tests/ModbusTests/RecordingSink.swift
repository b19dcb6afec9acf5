import Foundation
import GatewayCore
import Logging
import TestSupport

/// An `UplinkSink` that keeps everything it is given, for tests to wait on.
final class RecordingSink: UplinkSink, @unchecked Sendable {
    struct Report { var nodeId: String; var services: [ServiceReport] }
    struct Status: Equatable { var nodeId: String; var status: ChildStatus }

    private let lock = NSLock()
    private var reportsStore: [Report] = []
    private var statusesStore: [Status] = []

    var reports: [Report] { lock.withLock { reportsStore } }
    var statuses: [Status] { lock.withLock { statusesStore } }

    func report(nodeId: String, services: [ServiceReport]) async {
        lock.withLock { reportsStore.append(Report(nodeId: nodeId, services: services)) }
    }

    func statusChanged(nodeId: String, status: ChildStatus, at time: Date) async {
        lock.withLock { statusesStore.append(Status(nodeId: nodeId, status: status)) }
    }

    func message(nodeId: String, name: String, id: String, content: JSONObject, at time: Date) async {}

    func statuses(of nodeId: String) -> [ChildStatus] { statuses.filter { $0.nodeId == nodeId }.map(\.status) }

    /// The newest value reported for a property of a child.
    func latest(_ nodeId: String, service: String, property: String) -> JSONValue? {
        for report in reports.reversed() where report.nodeId == nodeId {
            for s in report.services where s.serviceId == service {
                if let value = s.properties[property] { return value }
            }
        }
        return nil
    }

    func waitForStatus(_ nodeId: String, _ status: ChildStatus, count: Int = 1, timeout: Duration = .seconds(20)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.statuses(of: nodeId).filter { $0 == status }.count >= count }
    }

    func waitForReport(_ nodeId: String, timeout: Duration = .seconds(20)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.reports.contains { $0.nodeId == nodeId } }
    }
}
