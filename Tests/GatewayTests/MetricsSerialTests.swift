import Foundation
import GatewayCore
import Serial
import SerialFraming
import TestSupport
import Testing
@testable import Gateway

/// The serial ports' counters as the scrape shows them: one series per port and problem, a
/// device series each up to the cap.
@Suite struct MetricsSerialTests {
    @Test func eachPortsCountersAndDevicesAreSampled() {
        var counters = SerialPortCounters()
        counters.bytesReceived = 1200
        counters.bytesSent = 70
        counters.framing.frames = 97
        counters.framing.checksumFailures = 3
        counters.framing.resyncs = 5
        counters.framing.truncated = 2
        counters.requests = 10
        counters.timeouts = 1
        counters.lost = 1
        var online = SerialDeviceCounters()
        online.status = .online
        let port = SerialPortStats(port: "/dev/ttyUSB1", open: true, sharedWithModbus: false, counters: counters,
                                   devices: ["tank-01": online, "tank-02": SerialDeviceCounters()])
        let metrics = GatewayMetrics(maxChildSeries: 1)
        metrics.sampleSerial([port], droppedReports: 4)
        let text = ScrapeText("HTTP/1.1 200 OK\r\n\r\n" + String(decoding: metrics.registry.render(), as: UTF8.self))
        let at = ["port": "/dev/ttyUSB1"]
        #expect(text.value("edgegw_serial_port_open", at) == 1, "\(text.text)")
        #expect(text.value("edgegw_serial_frames_total", at) == 97)
        #expect(text.value("edgegw_serial_bytes_total", at.merging(["direction": "in"]) { a, _ in a }) == 1200)
        #expect(text.value("edgegw_serial_frame_errors_total", at.merging(["problem": "checksum"]) { a, _ in a }) == 3)
        #expect(text.value("edgegw_serial_frame_errors_total", at.merging(["problem": "truncated"]) { a, _ in a }) == 2)
        #expect(text.value("edgegw_serial_resyncs_total", at) == 5)
        #expect(text.value("edgegw_serial_timeouts_total", at) == 1)
        #expect(text.value("edgegw_serial_port_lost_total", at) == 1)
        #expect(text.value("edgegw_serial_reports_dropped_total") == 4)
        // One device series under a cap of one: the first by node id.
        #expect(text.value("edgegw_serial_device_online", at.merging(["node_id": "tank-01"]) { a, _ in a }) == 1)
        #expect(text.value("edgegw_serial_device_online", at.merging(["node_id": "tank-02"]) { a, _ in a }) == nil)
    }
}
