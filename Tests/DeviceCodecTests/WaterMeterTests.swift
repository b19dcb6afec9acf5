import DeviceCodec
import Foundation
import GatewayCore
import Testing

/// The sample product that the demo's simulated meters use: both directions, end to end.
@Suite struct WaterMeterTests {
    @Test func sampleProductFileIsValid() throws {
        let codec = try CodecFixture.waterMeter()
        #expect(codec.productId == "water-meter")
        #expect(codec.uplink.map(\.name) == ["meterReading", "status", "setIntervalResult", "setValveResult"])
        #expect(codec.downlink.map(\.name) == ["reportAck", "setInterval", "setValve", "setLabel"])
    }

    @Test func meterReadingDecodesWithScaling() throws {
        let codec = try CodecFixture.waterMeter()
        let decoded = try codec.decode(hex("01 04D2 0001E240 FF9C 3F800000"))
        let expected = DecodedReport(message: "meterReading", services: [
            ServiceReport(serviceId: "WaterMeterBasic",
                          properties: ["flow": 12.34, "totalFlow": 123.456, "temperature": -10.0, "pressure": 1.0]),
        ])
        #expect(decoded == .report(expected))
    }

    @Test func twoReportMessagesRoundTrip() throws {
        let codec = try CodecFixture.waterMeter()
        let reading: [ServiceReport] = [
            ServiceReport(serviceId: "WaterMeterBasic",
                          properties: ["flow": 655.35, "totalFlow": 4294967.295, "temperature": -40.0, "pressure": 0.25]),
        ]
        let status: [ServiceReport] = [
            ServiceReport(serviceId: "Battery", properties: ["batteryLevel": 90, "voltage": 3.7]),
            ServiceReport(serviceId: "Connectivity", properties: ["signalStrength": -75, "cellId": 74565]),
            ServiceReport(serviceId: "DeviceInfo", properties: ["serialNumber": "12345678", "firmware": "V1.0"]),
        ]
        let readingBytes = try codec.encodeReport(message: "meterReading", services: reading)
        #expect(hexString(readingBytes) == "01" + "FFFF" + "FFFFFFFF" + "FE70" + "3E800000")
        #expect(try codec.decode(readingBytes) == .report(DecodedReport(message: "meterReading", services: reading)))

        let statusBytes = try codec.encodeReport(message: "status", services: status)
        #expect(hexString(statusBytes) == "025A0172B50001234500003132333435363738" + "04" + "56312E30")
        #expect(try codec.decode(statusBytes) == .report(DecodedReport(message: "status", services: status)))
    }

    @Test func reportResponseAnswersEveryReport() throws {
        let codec = try CodecFixture.waterMeter()
        guard case .report(let report) = try codec.decode(hex("01 04D2 0001E240 FF9C 3F800000")) else {
            Issue.record("expected a report"); return
        }
        let response = try #require(codec.encodeReportResponse(to: report))
        #expect(response == [0x80, 0x00])
        #expect(try codec.decodeDownlink(response) == .reportResponse(message: "reportAck"))
    }

    @Test func commandAndItsResponseRoundTripThroughTheCorrelator() throws {
        let codec = try CodecFixture.waterMeter()
        var correlator = CommandCorrelator()
        let sent = correlator.send(commandId: "req-1", serviceId: "WaterMeterBasic", command: "SET_INTERVAL")
        let mid = try #require(sent)
        let command = try codec.encode(command: "SET_INTERVAL", paras: ["interval": 3600], mid: mid)
        #expect(command == hex("81 0001 00000E10"))
        #expect(codec.expectsResponse(command: "SET_INTERVAL"))

        // The device's side: read the command, answer with the same mid.
        guard case .command(let received) = try codec.decodeDownlink(command) else {
            Issue.record("expected a command"); return
        }
        #expect(received == DecodedCommand(message: "setInterval", serviceId: "WaterMeterBasic", command: "SET_INTERVAL",
                                           mid: mid, paras: ["interval": 3600]))
        let answer = try codec.encodeCommandResponse(command: "SET_INTERVAL", mid: try #require(received.mid),
                                                     errcode: 0, paras: ["interval": 3600])
        #expect(answer == hex("03 0001 00 00000E10"))

        guard case .commandResponse(let response) = try codec.decode(answer) else {
            Issue.record("expected a command response"); return
        }
        #expect(correlator.receive(response) == .completed(
            commandId: "req-1", result: CommandResult(status: .successful, errcode: 0, paras: ["interval": 3600])))
        #expect(correlator.pending.isEmpty)
    }

    @Test func errcodeMakesTheCommandFailed() throws {
        let codec = try CodecFixture.waterMeter()
        var correlator = CommandCorrelator()
        let sent = correlator.send(commandId: "valve", serviceId: "WaterMeterBasic", command: "SET_VALVE")
        let mid = try #require(sent)
        #expect(try codec.encode(command: "SET_VALVE", paras: ["open": true], mid: mid) == hex("82 0001 01"))
        guard case .commandResponse(let response) = try codec.decode(hex("04 0001 07 00")) else {
            Issue.record("expected a command response"); return
        }
        #expect(correlator.receive(response) == .completed(
            commandId: "valve", result: CommandResult(status: .failed, errcode: 7, paras: ["open": false])))
    }

    @Test func commandWithoutResponseMessage() throws {
        let codec = try CodecFixture.waterMeter()
        #expect(!codec.expectsResponse(command: "SET_LABEL"))
        let bytes = try codec.encode(command: "SET_LABEL", paras: ["label": "Kitchen"], mid: 9)
        #expect(bytes == [0x83, 0x00, 0x09, 0x07] + Array("Kitchen".utf8))
    }
}
