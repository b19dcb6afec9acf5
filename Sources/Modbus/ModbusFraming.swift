/// One request of the bus as a Modbus PDU: what a traced transaction sends raw.
package enum ModbusRequestPDU: Sendable, Equatable {
    case read(table: ModbusTable, address: Int, count: Int)
    case writeCoil(address: Int, value: Bool)
    case writeCoils(address: Int, values: [Bool])
    case writeRegister(address: Int, value: UInt16)
    case writeRegisters(address: Int, values: [UInt16])

    package var function: UInt8 {
        switch self {
        case .read(let table, _, _): table.readFunction
        case .writeCoil: 5
        case .writeRegister: 6
        case .writeCoils: 15
        case .writeRegisters: 16
        }
    }

    /// Function code and data, as in the Modbus application protocol (§6).
    package var bytes: [UInt8] {
        var out = [function]
        switch self {
        case .read(_, let address, let count):
            out += Self.word(address) + Self.word(count)
        case .writeCoil(let address, let value):
            out += Self.word(address) + [value ? 0xFF : 0x00, 0x00]
        case .writeRegister(let address, let value):
            out += Self.word(address) + Self.word(Int(value))
        case .writeCoils(let address, let values):
            var packed = [UInt8](repeating: 0, count: (values.count + 7) / 8)
            for (i, on) in values.enumerated() where on { packed[i / 8] |= 1 << UInt8(i % 8) }
            out += Self.word(address) + Self.word(values.count) + [UInt8(packed.count)] + packed
        case .writeRegisters(let address, let values):
            out += Self.word(address) + Self.word(values.count) + [UInt8(truncatingIfNeeded: values.count * 2)]
            for value in values { out += Self.word(Int(value)) }
        }
        return out
    }

    /// What a technician reads beside the hex.
    var fields: [(String, String)] {
        switch self {
        case .read(_, let address, let count): [("address", "\(address)"), ("count", "\(count)")]
        case .writeCoil(let address, let value): [("address", "\(address)"), ("value", value ? "on" : "off")]
        case .writeRegister(let address, let value): [("address", "\(address)"), ("value", "\(value)")]
        case .writeCoils(let address, let values): [("address", "\(address)"), ("count", "\(values.count)")]
        case .writeRegisters(let address, let values): [("address", "\(address)"), ("count", "\(values.count)")]
        }
    }

    static func word(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
}

/// The wire framing of a traced transaction, pure: the ADU libmodbus's `modbus_send_raw_request`
/// puts on the wire for a request (TCP: an MBAP header with transaction id 0; RTU: the unit id
/// and the CRC), and the checks libmodbus's own request functions make on the answer. Package
/// access: the `modbus-points` fuzz target (Tools/FuzzTargets) checks hostile answers with it.
package enum ModbusFraming: Sendable, Equatable {
    case tcp
    case rtu

    init(_ transport: ModbusTransport) {
        if case .tcp = transport { self = .tcp } else { self = .rtu }
    }

    var headerLength: Int { self == .tcp ? 7 : 1 }
    var checksumLength: Int { self == .tcp ? 0 : 2 }

    package func requestADU(unit: Int, pdu: [UInt8]) -> [UInt8] {
        switch self {
        case .tcp:
            return [0, 0, 0, 0] + ModbusRequestPDU.word(pdu.count + 1) + [UInt8(truncatingIfNeeded: unit)] + pdu
        case .rtu:
            let body = [UInt8(truncatingIfNeeded: unit)] + pdu
            let crc = Self.crc16(body)
            return body + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        }
    }

    /// Modbus RTU's CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }

    /// How long the answer in `buffer` is by its own function code and byte count, the way
    /// libmodbus reads it; nil when the buffer is too short to say. For the bytes of an answer
    /// libmodbus read and then refused (bad CRC).
    package func answerLength(in buffer: [UInt8]) -> Int? {
        guard buffer.count > headerLength else { return nil }
        let function = buffer[headerLength]
        let length: Int
        switch function {
        case _ where function & 0x80 != 0: length = headerLength + 2
        case 1...4:
            guard buffer.count > headerLength + 1 else { return nil }
            length = headerLength + 2 + Int(buffer[headerLength + 1])
        case 5, 6, 15, 16: length = headerLength + 5
        default: return nil
        }
        let total = length + checksumLength
        return total <= buffer.count ? total : nil
    }

    /// Checks an answer (a whole ADU, CRC already checked by libmodbus) against its request and
    /// returns its data: register or bit bytes for a read, nothing for a write.
    package func check(answer adu: [UInt8], to request: ModbusRequestPDU, unit: Int) -> Result<[UInt8], ModbusError> {
        guard adu.count >= headerLength + 2 + checksumLength else { return .failure(.badResponse("answer of \(adu.count) bytes")) }
        if self == .tcp {
            guard adu[0] == 0, adu[1] == 0 else { return .failure(.badResponse("transaction id \(Int(adu[0]) << 8 | Int(adu[1])), sent 0")) }
            guard adu[2] == 0, adu[3] == 0 else { return .failure(.badResponse("protocol id is not 0")) }
            guard Int(adu[4]) << 8 | Int(adu[5]) == adu.count - 6 else { return .failure(.badResponse("MBAP length does not fit the answer")) }
        }
        guard Int(adu[headerLength - 1]) == unit else { return .failure(.badResponse("answer from unit \(adu[headerLength - 1])")) }
        let pdu = Array(adu[headerLength..<(adu.count - checksumLength)])
        if pdu[0] == request.function | 0x80 {
            return (1...11).contains(pdu[1]) ? .failure(.exception(code: pdu[1])) : .failure(.badResponse("exception code \(pdu[1])"))
        }
        guard pdu[0] == request.function else { return .failure(.badResponse("function \(pdu[0]) for \(request.function)")) }
        switch request {
        case .read(let table, _, let count):
            let expected = table.holdsBits ? (count + 7) / 8 : count * 2
            guard Int(pdu[1]) == expected, pdu.count == 2 + expected else {
                return .failure(.badResponse("\(pdu[1]) data bytes for \(count) \(table.holdsBits ? "bits" : "registers")"))
            }
            return .success(Array(pdu[2...]))
        case .writeCoil, .writeRegister:
            return pdu == request.bytes ? .success([]) : .failure(.badResponse("the echo differs from the request"))
        case .writeCoils, .writeRegisters:
            return pdu.count == 5 && pdu[1...4].elementsEqual(request.bytes[1...4])
                ? .success([]) : .failure(.badResponse("address or count differ from the request"))
        }
    }
}

extension ModbusError {
    /// The `status` of a traced answer.
    var traceStatus: String {
        switch self {
        case .exception(let code): "exception \(code) (\(Self.exceptionName(code)))"
        case .timeout: "timeout"
        case .crc: "crc error"
        case .badResponse(let reason): "bad response: \(reason)"
        case .connection(let reason): "connection error: \(reason)"
        case .stopped: "stopped"
        }
    }
}
