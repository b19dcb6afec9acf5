import Foundation
import Testing
import TestSupport

/// `make demo` ends with what the scripted cloud received, counted from its record file
/// (`scripted_platform.py --summary`): property reports per child, statuses, command responses
/// with their result codes, and the device messages a queued NB-IoT command's outcome travels in.
@Suite struct DemoSummaryTests {
    static func line(_ topic: String, _ payload: String, problems: [String] = []) -> String {
        let entry: [String: Any] = ["time": 0, "topic": "$oc/devices/gw/sys/" + topic, "payload": payload, "problems": problems]
        let data = (try? JSONSerialization.data(withJSONObject: entry)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func theSummaryCountsReportsStatusesResultsAndCommandResultMessages() async throws {
        let directory = TemporaryDirectory()
        let record = directory.write("platform.jsonl", [
            Self.line("events/up", #"{"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","paras":{"device_statuses":[{"device_id":"water-meter_2","status":"ONLINE"}]}}]}"#),
            Self.line("gateway/sub_devices/properties/report", #"{"devices":[{"device_id":"water-meter_2","services":[]},{"device_id":"power-meter_1","services":[]}]}"#),
            Self.line("gateway/sub_devices/properties/report", #"{"devices":[{"device_id":"power-meter_1","services":[]}]}"#),
            Self.line("commands/response/request_id=a", #"{"result_code":7,"result_desc":"queued: PENDING"}"#),
            Self.line("messages/up", #"{"object_device_id":"water-meter_2","name":"command_result","id":"a","content":{"command_name":"SET_LABEL","status":"DELIVERED","result_code":0}}"#,
                      problems: ["an example problem"]),
        ].joined(separator: "\n") + "\n")
        let process = try ChildProcess("/usr/bin/env", ["python3", Paths.packageRoot + "/scripts/scripted_platform.py", "--summary", record])
        #expect(await process.waitForExit(timeout: .seconds(20)) == 0, "\(process.text)")
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        let text = process.text
        #expect(text.contains("received 5 message(s); its checks flagged 1"), "\(text)")
        #expect(text.contains("flagged: $oc/devices/gw/sys/messages/up: an example problem"), "\(text)")
        #expect(text.contains("property reports: 2 message(s), 3 child report(s): power-meter_1 2, water-meter_2 1"), "\(text)")
        #expect(text.contains("child statuses: 1 message(s)\n    water-meter_2 ONLINE"), "\(text)")
        #expect(text.contains("result_code 7 (queued: PENDING)"), "\(text)")
        #expect(text.contains("command_result of water-meter_2: SET_LABEL DELIVERED, result_code 0"), "\(text)")
    }
}
