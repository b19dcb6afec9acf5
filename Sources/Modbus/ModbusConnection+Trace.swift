import CModbus
import Foundation
import GatewayCore

/// Where a traced bus's frames go: the tap, under the bus's id, stamped by the bus's clock.
struct ModbusTracer {
    let tap: TraceTap
    let target: String
    let clock: GatewayClock

    func emit(_ direction: String, _ adu: [UInt8], roundTrip: Duration? = nil, status: String? = nil,
              fields: [(String, String)]) {
        tap.emit(TraceRecord(time: clock.wallTime(), target: target, direction: direction, hex: adu.traceHex,
                             roundTripMilliseconds: roundTrip.map { Double($0.inNanoseconds) / 1e6 }, status: status,
                             fields: fields.map { TraceRecord.Field($0.0, $0.1) }))
    }
}

// A traced request: sent with `modbus_send_raw_request` (libmodbus frames it: MBAP header with
// transaction id 0, or unit id and CRC), answered through `modbus_receive_confirmation` (libmodbus
// reads the frame by its function code and checks the CRC), checked here as libmodbus's own
// request functions check it. The trace holds the request's ADU as it goes on the wire and the
// answer's bytes as they were read.
extension ModbusConnection {
    func traced(unit: Int, _ request: ModbusRequestPDU, _ tracer: ModbusTracer) throws(ModbusError) -> [UInt8] {
        select(unit: unit)
        let pdu = request.bytes
        let raw = [UInt8(truncatingIfNeeded: unit)] + pdu
        var fields = [("unit", "\(unit)"), ("function", "\(request.function)")]
        tracer.emit("request", framing.requestADU(unit: unit, pdu: pdu), fields: fields + request.fields)
        let sent = tracer.clock.now
        let rc = raw.withUnsafeBufferPointer { modbus_send_raw_request(context, $0.baseAddress, Int32($0.count)) }
        if rc < 0 {
            let error = failure(rc)
            tracer.emit("response", [], status: error.traceStatus, fields: fields)
            throw error
        }
        var buffer = [UInt8](repeating: 0, count: Int(MODBUS_MAX_ADU_LENGTH))
        let n = modbus_receive_confirmation(context, &buffer)
        let roundTrip = sent.duration(to: tracer.clock.now)
        let result: Result<[UInt8], ModbusError>
        var answer: [UInt8] = []
        if n > 0 {
            answer = Array(buffer.prefix(Int(n)))
            result = framing.check(answer: answer, to: request, unit: unit)
        } else {
            // 0: libmodbus's RTU backend skipped an answer from another unit.
            let error = n == 0 ? ModbusError.badResponse("answer from another unit") : failure(n)
            if error == .crc, let length = framing.answerLength(in: buffer) { answer = Array(buffer.prefix(length)) }
            result = .failure(error)
        }
        switch result {
        case .success(let data):
            if case .read(let table, _, _) = request, !table.holdsBits {
                fields.append(("values", stride(from: 0, to: data.count - 1, by: 2)
                    .map { String(UInt16(data[$0]) << 8 | UInt16(data[$0 + 1])) }.joined(separator: " ")))
            }
            tracer.emit("response", answer, roundTrip: roundTrip, status: "ok", fields: fields)
            return data
        case .failure(let error):
            tracer.emit("response", answer, roundTrip: error == .timeout ? nil : roundTrip, status: error.traceStatus, fields: fields)
            throw error
        }
    }
}
