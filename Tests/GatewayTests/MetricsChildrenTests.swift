import Foundation
import GatewayCore
import Store
import TestSupport
import Testing
@testable import Gateway

/// `edgegw_children` and the per-child series: counted by SQLite, one series for each of the first
/// `max_child_series` children by node id, the rest counted as omitted.
@Suite struct MetricsChildrenTests {
    @Test func childrenAreCountedByKindAndStatusAndTheirSeriesCapped() throws {
        let tmp = TemporaryDirectory()
        let store = try StateStore(directory: tmp.path)
        for index in 0..<30 {
            try store.upsertChild(ChildDevice(nodeId: String(860_000_000_000_000 + index), productId: "water-meter", source: .lwm2m,
                                              status: index % 3 == 0 ? .online : .offline))
        }
        try store.upsertChild(ChildDevice(nodeId: "meter-1", productId: "power-meter", source: .modbus, status: .abnormal))
        let metrics = GatewayMetrics(maxChildSeries: 10)
        metrics.sampleChildren(store)
        let text = ScrapeText("HTTP/1.1 200 OK\r\n\r\n" + String(decoding: metrics.registry.render(), as: UTF8.self))
        #expect(text.value("edgegw_children", ["kind": "nbiot", "status": "ONLINE"]) == 10, "\(text.text)")
        #expect(text.value("edgegw_children", ["kind": "nbiot", "status": "OFFLINE"]) == 20)
        #expect(text.value("edgegw_children", ["kind": "modbus", "status": "ABNORMAL"]) == 1)
        #expect(text.value("edgegw_children", ["kind": "modbus", "status": "ONLINE"]) == 0)
        #expect(text.value("edgegw_child_series_omitted") == 21)
        let series = text.text.split(separator: "\n").filter { $0.hasPrefix("edgegw_child_online{") }
        #expect(series.count == 10)
        // The first ten by node id: the modules (digits sort before "meter-1").
        #expect(text.value("edgegw_child_online", ["node_id": "860000000000000"]) == 1)
        #expect(text.value("edgegw_child_online", ["node_id": "860000000000001"]) == 0)
        #expect(text.value("edgegw_child_online", ["node_id": "860000000000010"]) == nil)
        #expect(text.value("edgegw_child_online", ["node_id": "meter-1"]) == nil)

        // Every child fits under a larger cap.
        let all = GatewayMetrics(maxChildSeries: 1000)
        all.sampleChildren(store)
        let full = ScrapeText("HTTP/1.1 200 OK\r\n\r\n" + String(decoding: all.registry.render(), as: UTF8.self))
        #expect(full.value("edgegw_child_series_omitted") == 0)
        #expect(full.value("edgegw_child_online", ["kind": "modbus", "node_id": "meter-1"]) == 0)
    }
}
