import Foundation
import GatewayCore
import Testing
@testable import IoTDA

@Suite struct LimitsTests {
    @Test func documentedConstants() {
        #expect(BatchPropertyReport.maxDevicesPerReport == 100)
        #expect(SubDeviceStatusUpdate.entriesPerUpdate == 1...100)
        #expect(SubDeviceRequestLimits.maxDevicesPerRequest == 50)
        #expect(SubDeviceRequestLimits.responseWindow == .seconds(30))
        #expect(SubDeviceRequestLimits.maxExtensionInfoBytes == 1024)
        #expect(CommandRequest.responseWindow == .seconds(20))
        #expect(ConnectionLimits.keepaliveRange == 30...1200)
        #expect(ConnectionLimits.defaultKeepalive == 120)
        #expect(ConnectionLimits.isValidKeepalive(30) && ConnectionLimits.isValidKeepalive(1200) && ConnectionLimits.isValidKeepalive(120))
        #expect(!ConnectionLimits.isValidKeepalive(29) && !ConnectionLimits.isValidKeepalive(1201) && !ConnectionLimits.isValidKeepalive(0))
        #expect(ConnectionLimits.mqttPort == 1883 && ConnectionLimits.mqttsPort == 8883)
        #expect(ConnectionLimits.upstreamAlarmBytesPerSecond == 3072)
        #expect(ConnectionLimits.resourceSpaceMessagesPerSecond == 120)
        #expect(LogReport.maxReportBytes == 1_000_000)
        #expect(OTALimits.versionReportWindow == .seconds(180))
        #expect(OTALimits.upgradeWindow == .seconds(86_400))
        #expect(FileURLResponse.maxFileBytes == 5_000_000_000)
        #expect(UpgradeProgress.progressRange == 0...100)
    }

    func children(_ n: Int, prefix: String = "c") -> [DeviceProperties] {
        (0..<n).map { DeviceProperties(deviceId: "\(prefix)\($0)", services: [ServiceProperty(serviceId: "s", properties: ["v": .int(Int64($0))])]) }
    }

    @Test func batchReportSplitsAt100Children() throws {
        let reports = BatchPropertyReport.split(children(250))
        #expect(reports.map(\.devices.count) == [100, 100, 50])
        #expect(reports.flatMap(\.devices).map(\.deviceId) == (0..<250).map { "c\($0)" })
        for r in reports { try r.validate() }
        #expect(BatchPropertyReport.split(children(100)).count == 1)
        #expect(BatchPropertyReport.split(children(101)).map(\.devices.count) == [100, 1])
        #expect(BatchPropertyReport.split([]).isEmpty)
        // A smaller cap is honoured, a larger one is clamped to the platform's 100.
        #expect(BatchPropertyReport.split(children(25), maxDevices: 10).map(\.devices.count) == [10, 10, 5])
        #expect(BatchPropertyReport.split(children(150), maxDevices: 500).map(\.devices.count) == [100, 50])
    }

    @Test func batchReportMergesReadingsOfOneChildInOrder() {
        let a1 = DeviceProperties(deviceId: "a", services: [ServiceProperty(serviceId: "s", properties: ["v": 1], eventTime: "20240101T000000Z")])
        let b1 = DeviceProperties(deviceId: "b", services: [ServiceProperty(serviceId: "s", properties: ["v": 2])])
        let a2 = DeviceProperties(deviceId: "a", services: [ServiceProperty(serviceId: "s", properties: ["v": 3], eventTime: "20240101T000001Z")])
        let reports = BatchPropertyReport.split([a1, b1, a2])
        #expect(reports.count == 1)
        #expect(reports[0].devices.map(\.deviceId) == ["a", "b"])
        #expect(reports[0].devices[0].services.map { $0.properties["v"] } == [1, 3])
    }

    @Test func batchReportValidation() {
        #expect(throws: PayloadError.self) { try BatchPropertyReport(devices: []).validate() }
        #expect(throws: PayloadError.self) { try BatchPropertyReport(devices: children(101)).validate() }
    }

    @Test func statusUpdateSplitsAt100AndCoalesces() throws {
        var statuses = (0..<230).map { DeviceStatus(deviceId: "d\($0)", status: .online) }
        statuses.append(DeviceStatus(deviceId: "d5", status: .offline)) // a later change to d5 wins, in d5's place
        let updates = SubDeviceStatusUpdate.split(statuses)
        #expect(updates.map(\.deviceStatuses.count) == [100, 100, 30])
        #expect(updates[0].deviceStatuses[5] == DeviceStatus(deviceId: "d5", status: .offline))
        for u in updates { try u.validate() }
        #expect(SubDeviceStatusUpdate.split([]).isEmpty)
        #expect(throws: PayloadError.self) { try SubDeviceStatusUpdate(deviceStatuses: []).validate() }
        let tooMany = (0..<101).map { DeviceStatus(deviceId: "d\($0)", status: .online) }
        #expect(throws: PayloadError.self) { try SubDeviceStatusUpdate(deviceStatuses: tooMany).validate() }
        #expect(SubDeviceStatus(ChildStatus.abnormal) == .offline)
        #expect(SubDeviceStatus(ChildStatus.online) == .online)
    }

    @Test func childRequestsSplitAt50() throws {
        let adds = (0..<120).map { NewSubDevice(nodeId: "n\($0)", productId: "p") }
        let addRequests = AddSubDeviceRequest.split(adds)
        #expect(addRequests.map(\.devices.count) == [50, 50, 20])
        for r in addRequests { try r.validate() }
        #expect(throws: PayloadError.self) { try AddSubDeviceRequest(devices: adds).validate() }
        #expect(throws: PayloadError.self) { try AddSubDeviceRequest(devices: []).validate() }
        #expect(DeleteSubDeviceRequest.split((0..<51).map { "d\($0)" }).map(\.devices.count) == [50, 1])
        #expect(throws: PayloadError.self) { try DeleteSubDeviceRequest(devices: (0..<51).map { "d\($0)" }).validate() }
        let updates = (0..<100).map { SubDeviceUpdate(deviceId: "d\($0)") }
        #expect(UpdateSubDeviceRequest.split(updates).map(\.devices.count) == [50, 50])
        #expect(throws: PayloadError.self) { try UpdateSubDeviceRequest(devices: updates).validate() }
    }

    @Test func extensionInfoIsAtMost1K() throws {
        let small = NewSubDevice(nodeId: "n", productId: "p", extensionInfo: ["site": "A"])
        try AddSubDeviceRequest(devices: [small]).validate()
        let big = NewSubDevice(nodeId: "n", productId: "p", extensionInfo: ["blob": .string(String(repeating: "x", count: 1020))])
        do {
            try AddSubDeviceRequest(devices: [big]).validate()
            Issue.record("1 KB extension_info accepted")
        } catch {
            guard case .limitExceeded(let field, let limit, _) = error.code else { Issue.record("wrong code"); return }
            #expect(field == "extension_info" && limit == 1024)
        }
        #expect(throws: PayloadError.self) { try UpdateSubDeviceRequest(devices: [SubDeviceUpdate(deviceId: "d", extensionInfo: big.extensionInfo)]).validate() }
    }

    @Test func logReportSplitsUnderOneMegabyte() throws {
        let content = String(repeating: "é\n\u{1}", count: 400_000) // 1.6 MB of UTF-8 with characters JSON must escape
        let reports = LogReport.split(type: .deviceStatus, content: content)
        #expect(reports.count > 1)
        #expect(reports.map(\.content).joined() == content)
        for r in reports {
            let size = try IoTDAJSON.encode(EventsMessage(objectDeviceId: nil, .logReport(r), at: Date())).count
            #expect(size <= LogReport.maxReportBytes)
        }
        #expect(LogReport.split(type: .deviceMessage, content: "").map(\.content) == [""])
    }

    @Test func upgradeProgressIsClamped() {
        #expect(UpgradeProgress(resultCode: .success, progress: 140, version: "v").progress == 100)
        #expect(UpgradeProgress(resultCode: .success, progress: -3, version: "v").progress == 0)
        #expect(UpgradeProgress(resultCode: .internalError, version: "v").resultCode == 255)
    }
}

@Suite struct NonFiniteValueTests {
    @Test func nanAndInfinityGoOutAsNull() throws {
        let report = BatchPropertyReport(devices: [DeviceProperties(deviceId: "c1", services: [
            ServiceProperty(serviceId: "s", properties: ["ok": 1.5, "nan": .double(.nan), "inf": .double(.infinity),
                                                         "nested": ["a": [.double(-.infinity), 2]]]),
        ])])
        let json = String(decoding: try IoTDAJSON.encode(report), as: UTF8.self)
        #expect(json == #"{"devices":[{"device_id":"c1","services":[{"service_id":"s","properties":{"ok":1.5,"nan":null,"inf":null,"nested":{"a":[null,2]}}}]}]}"#)
        let message = MessageUp(content: ["v": .double(.nan)])
        #expect(String(decoding: try IoTDAJSON.encode(message), as: UTF8.self) == #"{"content":{"v":null}}"#)
    }
}
