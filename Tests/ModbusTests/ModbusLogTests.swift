import Foundation
import GatewayCore
import Logging
import Testing
import TestSupport
@testable import Modbus

/// What the bus logs about a slave that misbehaves, against a pymodbus slave on 127.0.0.1:
/// state changes with a count, never one line per poll; a silent slave is a timeout, not an
/// overloaded bus; a point that does not decode is named by its own address.
@Suite(.serialized) struct ModbusLogTests {
    typealias T = ModbusTCPTests

    func device(_ nodeId: String, port: UInt16, unitId: Int = 1, group: String = "g", interval: Duration,
                delay: Duration? = nil, points: [ModbusPoint]) -> ModbusDeviceConfig {
        ModbusDeviceConfig(nodeId: nodeId, productId: "p", transport: .tcp(host: "127.0.0.1", port: Int(port)),
                           busOverrides: ModbusBusOverrides(interRequestDelay: delay),
                           unitId: unitId, pollGroups: [ModbusPollGroup(name: group, interval: interval)], points: points)
    }

    @Test func aRegisterThatAlwaysAnswersAnExceptionIsLoggedAtFirstFailureAndAtRecovery() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        #expect(await peer.exception(unit: 1, address: 500, code: 2))
        // Two reads per cycle: 0+1 answers, 500+1 always gets exception 2.
        let meter = device("exc-1", port: port, interval: .milliseconds(50),
                           points: [point("v", address: 0, type: .uint16), point("far", address: 500, type: .uint16)])
        #expect(ReadPlanner.plan(device: meter)[0].count == 2)
        let sink = RecordingSink()
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(), devices: [meter], products: [:], sink: sink, logger: log.logger())
        var failures = 0
        await T.running(service) {
            #expect(await Eventually.wait { (service.diagnostics().device("exc-1")?.counters.exceptions ?? 0) >= 20 })
            #expect(await Eventually.wait { sink.latest("exc-1", service: "s", property: "v") == 0 })
            await peer.exception(unit: 1, address: 500, code: 0)
            #expect(await Eventually.wait { sink.latest("exc-1", service: "s", property: "far") == 0 })
            failures = service.diagnostics().device("exc-1")?.counters.exceptions ?? 0
        }
        let failed = log.lines.filter { $0.contains("read failed: Modbus exception 2") }
        #expect(failed.count == 1, "\(failed.count) lines: \(failed.prefix(3))")
        #expect(failed.first?.hasPrefix("warning read failed: Modbus exception 2 (illegal data address)") == true, "\(failed)")
        #expect(failed.first?.contains(#""address": 500"#) == true, "\(failed)")
        let recovered = log.lines.filter { $0.contains("answered again") }
        #expect(recovered.count == 1, "\(log.lines)")
        #expect(recovered.first?.hasPrefix("notice read answered again after \(failures) failed polls (Modbus exception 2") == true,
                "\(recovered), \(failures) exceptions counted")
        // (A loaded test machine may overrun the 50 ms interval: that line is another matter.)
        #expect(log.lines.filter { $0.hasPrefix("warning") && !$0.contains("overloaded") }.count == 1, "\(log.lines)")
        // An exception is an answer: the slave stayed online.
        #expect(sink.statuses(of: "exc-1") == [.online])
    }

    @Test func aSilentSlaveIsLoggedAsATimeoutNotAsAnOverloadedBus() async throws {
        let (peer, port) = try await T.startPeer(units: [1])
        defer { peer.stop() }
        // Unit 9 never answers; its cycle (one 0.5 s timeout) is longer than its 0.3 s interval.
        let silent = device("silent-9", port: port, unitId: 9, group: "fast", interval: .milliseconds(300),
                            points: [point("v", address: 0, type: .uint16)])
        let settings = ModbusSettings(responseTimeout: .milliseconds(500), retryBackoff: .milliseconds(200),
                                      retryBackoffMax: .milliseconds(200))
        let sink = RecordingSink()
        let log = LogRecorder()
        let service = ModbusService(settings: settings, devices: [silent], products: [:], sink: sink, logger: log.logger())
        await T.running(service) {
            #expect(await sink.waitForStatus("silent-9", .offline))
            #expect(await Eventually.wait { (service.diagnostics().device("silent-9")?.counters.timeouts ?? 0) >= 5 })
        }
        #expect(!log.lines.contains { $0.contains("overloaded") }, "\(log.lines)")
        let timeouts = log.lines.filter { $0.contains("no response within the timeout") }
        #expect(timeouts.count == 1, "\(log.lines)")
        #expect(timeouts.first?.hasPrefix("warning read failed: no response within the timeout (0.5 s)") == true, "\(timeouts)")
        #expect(timeouts.first?.contains(#""unit": 9"#) == true, "\(timeouts)")
        #expect(log.lines.contains { $0.hasPrefix("warning device offline after 3 failed cycles") }, "\(log.lines)")
    }

    @Test func aBusThatCannotKeepUpIsStillCalledOverloaded() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        // Three reads 150 ms apart: every cycle takes 0.3 s for a 10 ms interval, all answered.
        let busy = device("busy-1", port: port, interval: .milliseconds(10), delay: .milliseconds(150),
                          points: [point("a", address: 0, type: .uint16), point("b", address: 500, type: .uint16),
                                   point("c", table: .input, address: 0, type: .uint16)])
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(), devices: [busy], products: [:], sink: RecordingSink(),
                                    logger: log.logger())
        await T.running(service) {
            #expect(await Eventually.wait { (service.diagnostics().device("busy-1")?.counters.requests ?? 0) >= 7 })
        }
        let overloaded = log.lines.filter { $0.contains("overloaded") }
        #expect(overloaded.count == 1, "\(log.lines)")
        #expect(overloaded.first?.hasPrefix("warning poll group g took 0.") == true, "\(overloaded)")
        #expect(overloaded.first?.contains("longer than its interval 0.01 s; the bus is overloaded") == true, "\(overloaded)")
        #expect(!log.lines.contains { $0.contains("read failed") }, "\(log.lines)")
    }

    @Test func aPointThatDoesNotDecodeIsNamedByItsOwnAddressOnceUntilItDecodes() async throws {
        let (peer, port) = try await T.startPeer()
        defer { peer.stop() }
        // One read, holding 90+12; the float at 100 holds a NaN.
        #expect(await peer.set(unit: 1, table: "holding", address: 100, [0x7FC0, 0x0000]))
        let meter = device("nan-1", port: port, interval: .milliseconds(50),
                           points: [point("a", address: 90, type: .uint16), point("f", address: 100, type: .float32)])
        #expect(ReadPlanner.plan(device: meter)[0].map { "\($0.address)+\($0.count)" } == ["90+12"])
        let sink = RecordingSink()
        let log = LogRecorder()
        let service = ModbusService(settings: ModbusSettings(), devices: [meter], products: [:], sink: sink, logger: log.logger())
        await T.running(service) {
            #expect(await Eventually.wait { (service.diagnostics().device("nan-1")?.counters.responses ?? 0) >= 15 })
            #expect(await peer.set(unit: 1, table: "holding", address: 100, [0x3F80, 0x0000]))   // 1.0
            #expect(await Eventually.wait { sink.latest("nan-1", service: "s", property: "f") == 1.0 })
        }
        let failed = log.lines.filter { $0.contains("not decoded") }
        #expect(failed.count == 1, "\(failed.count) lines: \(failed.prefix(3))")
        let line = try #require(failed.first)
        #expect(line.hasPrefix("warning point f (holding 100, 2 registers) not decoded:"), "\(line)")
        #expect(line.contains(#""address": 100"#) && line.contains(#""count": 2"#), "\(line)")
        #expect(!line.contains(#""address": 90"#) && !line.contains(#""count": 12"#), "\(line)")
        let decoded = log.lines.filter { $0.contains("decoded again") }
        #expect(decoded.count == 1, "\(log.lines)")
        #expect(decoded.first?.hasPrefix("notice point f (holding 100, 2 registers) decoded again after ") == true, "\(decoded)")
    }
}
