import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Modbus

/// The trace's framing, pure, and a traced RTU-over-TCP bus against pymodbus: the frames byte
/// for byte as the slave saw them, and broken answers treated as untraced ones are.
@Suite(.serialized) struct ModbusTraceTests {
    @Test func requestADUs() {
        let read = ModbusRequestPDU.read(table: .holding, address: 0, count: 1)
        // The textbook frame: unit 1 reads holding register 0, CRC 0x0A84 sent low byte first.
        #expect(ModbusFraming.rtu.requestADU(unit: 1, pdu: read.bytes).traceHex == "010300000001840a")
        #expect(ModbusFraming.tcp.requestADU(unit: 1, pdu: read.bytes).traceHex == "000000000006010300000001")
        #expect(ModbusRequestPDU.writeCoil(address: 3, value: true).bytes.traceHex == "050003ff00")
        #expect(ModbusRequestPDU.writeCoils(address: 0, values: [true, false, true, true, false, false, false, false, true]).bytes.traceHex
            == "0f00000009020d01")
        #expect(ModbusRequestPDU.writeRegisters(address: 1, values: [0xBEEF, 2]).bytes.traceHex == "100001000204beef0002")
    }

    @Test func answersAreCheckedLikeLibmodbusChecksThem() {
        let read = ModbusRequestPDU.read(table: .input, address: 0, count: 2)
        let tcp = ModbusFraming.tcp
        let good: [UInt8] = [0, 0, 0, 0, 0, 7, 1, 4, 4, 0x43, 0x64, 0x80, 0]
        #expect(tcp.check(answer: good, to: read, unit: 1) == .success([0x43, 0x64, 0x80, 0]))
        #expect(tcp.check(answer: [0, 0, 0, 0, 0, 3, 1, 0x84, 2], to: read, unit: 1) == .failure(.exception(code: 2)))
        guard case .failure(.badResponse) = tcp.check(answer: [0, 0, 0, 0, 0, 5, 1, 4, 2, 0, 1], to: read, unit: 1) else {
            Issue.record("a short read was taken")
            return
        }
        guard case .failure(.badResponse) = tcp.check(answer: [0, 9] + good.dropFirst(2), to: read, unit: 1) else {
            Issue.record("another transaction's answer was taken")
            return
        }
        guard case .failure(.badResponse) = tcp.check(answer: good, to: read, unit: 2) else {
            Issue.record("another unit's answer was taken")
            return
        }
        let write = ModbusRequestPDU.writeRegister(address: 5, value: 7)
        #expect(ModbusFraming.rtu.check(answer: [1] + write.bytes + [0, 0], to: write, unit: 1) == .success([]))
        // The bytes of an answer libmodbus refused for its CRC, by the answer's own length.
        #expect(ModbusFraming.rtu.answerLength(in: [1, 3, 2, 4, 0xD2, 0xAA, 0xBB, 0, 0, 0]) == 7)
        #expect(ModbusFraming.rtu.answerLength(in: [1, 0x83, 2, 0xAA, 0xBB, 0]) == 5)
        #expect(ModbusFraming.rtu.answerLength(in: [1, 3, 200, 0]) == nil)
    }

    @Test func aTracedRTUOverTCPBusShowsWhatTheSlaveSaw() async throws {
        let port = FreePort.next()
        let peer = try ModbusPeer(rtuOverTCPPort: port, units: [4])
        defer { peer.stop() }
        try #require(await peer.ready())
        #expect(await peer.set(unit: 4, table: "holding", address: 8, [0xBEEF, 0x0001]))
        let device = ModbusDeviceConfig(nodeId: "conv-4", productId: "p", transport: .rtuOverTCP(host: "127.0.0.1", port: Int(port)),
                                        unitId: 4, pollGroups: [ModbusPollGroup(name: "g", interval: .milliseconds(100))],
                                        points: [point("v", address: 8, type: .uint32, order: .cdab)])
        let sink = RecordingSink()
        let settings = ModbusSettings(responseTimeout: .milliseconds(300), retryBackoff: .milliseconds(100),
                                      retryBackoffMax: .milliseconds(400))
        let tap = TraceTap()
        let records = Locked<[TraceRecord]>([])
        let service = ModbusService(settings: settings, devices: [device], products: [:], sink: sink,
                                    logger: ModbusTCPTests.quietLogger(), trace: tap)
        let subscription = tap.subscribe(target: "rtu-tcp:127.0.0.1:\(port)", capacity: 4096) {}
        func taken() -> [TraceRecord] {
            records.withLock { $0 += subscription.take().records; return $0 }
        }
        try await ModbusTCPTests.running(service) {
            // Traced, the values still arrive.
            #expect(await Eventually.wait { sink.latest("conv-4", service: "s", property: "v") == .int(0x0001_BEEF) })
            #expect(await Eventually.wait { taken().contains { $0.direction == "response" && $0.status == "ok" } })
            let request = "040300080002459c"
            let response = "040304beef00017b2e"
            let packets = await peer.packets() ?? []
            #expect(taken().contains { $0.direction == "request" && $0.hex == request }, "\(taken())")
            #expect(taken().contains { $0.direction == "response" && $0.hex == response }, "\(taken())")
            #expect(packets.contains { $0.direction == "recv" && $0.hex == request }, "\(packets)")
            #expect(packets.contains { $0.direction == "send" && $0.hex == response }, "\(packets)")

            // A broken CRC: counted, and the trace holds the bytes as they came.
            await peer.mode(unit: 4, "badcrc")
            #expect(await Eventually.wait { (service.diagnostics().device("conv-4")?.counters.crcErrors ?? 0) >= 2 })
            let crc = try #require(taken().first { $0.status == "crc error" })
            #expect(await peer.packets()?.contains { $0.direction == "send" && $0.hex == crc.hex } == true, "\(crc)")
            await peer.mode(unit: 4, "wrongunit")
            #expect(await Eventually.wait { (service.diagnostics().device("conv-4")?.counters.badResponses ?? 0) >= 1 })
            #expect(taken().contains { $0.status?.hasPrefix("bad response") == true })
            await peer.mode(unit: 4, "ok")
            #expect(await peer.set(unit: 4, table: "holding", address: 8, [0x0002, 0x0000]))
            #expect(await Eventually.wait { sink.latest("conv-4", service: "s", property: "v") == 2 })

            // Untraced again: requests go through libmodbus's own calls, nothing is recorded.
            subscription.cancel()
            _ = subscription.take()
            #expect(!tap.isOn)
            let before = service.diagnostics().device("conv-4")?.counters.requests ?? 0
            #expect(await Eventually.wait { (service.diagnostics().device("conv-4")?.counters.requests ?? 0) > before + 2 })
            #expect(subscription.take().records.isEmpty)
        }
    }

    /// Writes and bit reads through the traced path, on one connection against pymodbus over TCP.
    @Test func tracedWritesAndBitReadsReachTheSlave() async throws {
        let port = FreePort.next()
        let peer = try ModbusPeer(tcpPort: port, units: [1])
        defer { peer.stop() }
        try #require(await peer.ready())
        let tap = TraceTap()
        let subscription = tap.subscribe(target: "bus", capacity: 1000) {}
        defer { subscription.cancel() }
        let connection = try #require(ModbusConnection(transport: .tcp(host: "127.0.0.1", port: Int(port))))
        _ = try connection.connect()
        connection.tracer = ModbusTracer(tap: tap, target: "bus", clock: .system())
        try connection.writeRegister(unit: 1, address: 3, value: 0x1234)
        try connection.writeRegisters(unit: 1, address: 10, values: [7, 8, 9])
        try connection.writeCoil(unit: 1, address: 2, value: true)
        try connection.writeCoils(unit: 1, address: 4, values: [true, false, true])
        #expect(await peer.get(unit: 1, table: "holding", address: 3, count: 1) == [0x1234])
        #expect(await peer.get(unit: 1, table: "holding", address: 10, count: 3) == [7, 8, 9])
        #expect(await peer.get(unit: 1, table: "coil", address: 2, count: 5) == [1, 0, 1, 0, 1])
        let bits = UnsafeMutablePointer<UInt8>.allocate(capacity: 5)
        defer { bits.deallocate() }
        try connection.readBits(unit: 1, table: .coil, address: 2, count: 5, into: bits)
        #expect((0..<5).map { bits[$0] } == [1, 0, 1, 0, 1])
        let records = subscription.take().records
        #expect(records.count == 10 && records.filter { $0.status == "ok" }.count == 5, "\(records)")
        let packets = Set(await peer.packets()?.map(\.hex) ?? [])
        for record in records { #expect(packets.contains(record.hex), "\(record) not seen by the slave") }
        #expect(records.first?.hex == "000000000006010600031234")
    }
}
