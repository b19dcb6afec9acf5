import Config
import GatewayCore
import Modbus

/// `modbus-points`: what a Modbus slave answers, decoded into property values the way a bus
/// does it. The first byte chooses:
///
/// 0. poll answers for a device (the sample power meter, or one with a point of every type,
///    byte and word order and a few scales): then, repeatedly, a byte choosing one of its planned
///    reads and that read's registers (two bytes each), through `RegisterChangeDetector` (which
///    decodes only the points whose registers changed) and `PointCodec.decode`;
/// 1. one point of that device and its registers: `PointCodec.decode`, then `encode` of the
///    value;
/// 2. a traced transaction's answer ADU (TCP or RTU framing, a read of a table, address and
///    count from the input) through `ModbusFraming.check`, its data then decoded as in 0.
///
/// Properties: after every answer each point's last value is what decoding the latest registers
/// gives (the change detector never leaves a stale value, nor a failed one counted as known);
/// an unscaled value encodes back to the very registers it came from, a scaled 16- or 32-bit
/// one to the same raw integer; a checked answer's data is the size its request asks for.
enum ModbusPointsTarget {
    static let target = FuzzTarget(
        name: "modbus-points", maxInputBytes: 4096,
        summary: "RegisterChangeDetector + PointCodec.decode over planned reads, PointCodec.encode round trip, ModbusFraming.check",
        run: run)

    struct Device: Sendable {
        var config: ModbusDeviceConfig
        var plans: [[ModbusReadRequest]]
        var reads: [(group: Int, index: Int, request: ModbusReadRequest)]

        init(_ config: ModbusDeviceConfig) {
            self.config = config
            plans = ReadPlanner.plan(device: config)
            reads = plans.enumerated().flatMap { group, requests in
                requests.enumerated().map { (group: group, index: $0.offset, request: $0.element) }
            }
        }
    }

    static let devices: [Device] = [Device(sampleMeter), Device(everyType)]

    static let sampleMeter: ModbusDeviceConfig = {
        let file = "devices/power-meter.toml"
        let diagnostics = ConfigDiagnostics()
        guard let device = ModbusDeviceConfig.parse(reader: SampleFiles.reader(file, diagnostics: diagnostics),
                                                     products: SampleFiles.products) else {
            SampleFiles.requireClean(diagnostics, file)
            FuzzCheck.fail("\(file) does not parse")
        }
        return device
    }()

    /// Holding registers from 0: every numeric type in every order, scaled and offset ones,
    /// bits, text, a flag; coils; two poll groups.
    static let everyType: ModbusDeviceConfig = {
        var points: [ModbusPoint] = []
        var address = 0
        func add(_ type: ModbusDataType, order: ModbusByteOrder = .abcd, bit: Int = 0, length: Int = 1,
                 scale: Double = 1, offset: Double = 0, table: ModbusTable = .holding, group: Int = 0) {
            let name = "p\(points.count)"
            points.append(ModbusPoint(name: name, serviceId: "S", property: name, table: table, address: address, type: type,
                                      order: order, bit: bit, length: length, scale: scale, offset: offset, group: group))
            address += table.holdsBits ? 1 : type.registerCount(stringLength: length) + (points.count % 3 == 0 ? 2 : 0)
        }
        for type in [ModbusDataType.int32, .uint32, .int64, .uint64, .float32, .float64] {
            for order in ModbusByteOrder.allCases { add(type, order: order) }
        }
        add(.int16)
        add(.uint16)
        add(.int16, scale: 0.01, offset: -40)
        add(.uint16, scale: 0.1)
        add(.uint32, scale: 0.001, group: 1)
        add(.int32, scale: 10, offset: 273.15, group: 1)
        add(.float32, scale: 0.1, group: 1)
        add(.int64, scale: 0.5, group: 1)
        add(.bit, bit: 0)
        add(.bit, bit: 15)
        add(.bool)
        add(.string, length: 3)
        add(.string, order: .badc, length: 2, group: 1)
        address = 0
        add(.bool, table: .coil)
        add(.bool, table: .coil)
        add(.bool, table: .coil, group: 1)
        return ModbusDeviceConfig(nodeId: "every-type", productId: "none", transport: .tcp(host: "127.0.0.1", port: 502), unitId: 1,
                                  pollGroups: [ModbusPollGroup(name: "fast", interval: .seconds(1)),
                                               ModbusPollGroup(name: "slow", interval: .seconds(10))],
                                  points: points, maxGapRegisters: 4, maxReadRegisters: 40)
    }()

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let variant = input.byte() % 3
        let device = devices[Int(input.byte()) % devices.count]
        switch variant {
        case 0: poll(device, &input)
        case 1: point(device, &input)
        default: traced(device, &input)
        }
    }

    static func words(_ bytes: [UInt8]) -> [UInt16] {
        stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    }

    static func decode(_ point: ModbusPoint, _ words: ArraySlice<UInt16>) -> Result<JSONValue, PointCodec.DecodeError> {
        if point.table.holdsBits { return .success(PointCodec.decode(point: point, bit: (words.first ?? 0) != 0)) }
        return PointCodec.decode(point: point, registers: words)
    }

    /// Answers to the device's planned reads, in the order the input gives them.
    static func poll(_ device: Device, _ input: inout FuzzInput) {
        guard !device.reads.isEmpty else { return }
        let config = device.config
        var detector = RegisterChangeDetector(points: config.points.map { ($0.address, $0.count) }, plans: device.plans)
        var values = [JSONValue?](repeating: nil, count: config.points.count)
        while !input.isEmpty {
            let read = device.reads[Int(input.byte()) % device.reads.count]
            let request = read.request
            let answer = request.table.holdsBits
                ? input.take(request.count).map { UInt16($0 & 1) }
                : words(input.take(request.count * 2))
            guard answer.count == request.count else { return }
            answer.withUnsafeBufferPointer { buffer in
                detector.update(group: read.group, read: read.index, request: request, words: buffer) { index, from, count in
                    FuzzCheck.require(from >= 0 && from + count <= buffer.count, "point \(index) decoded from \(from)..<\(from + count) of \(buffer.count)")
                    switch decode(config.points[index], answer[from..<(from + count)]) {
                    case .success(let value):
                        values[index] = value
                        return true
                    case .failure:
                        return false
                    }
                }
            }
            for index in request.points {
                let point = config.points[index]
                let from = point.address - request.address
                switch decode(point, answer[from..<(from + point.count)]) {
                case .success(let value):
                    FuzzCheck.require(detector.known[index] && values[index] == value,
                                      "\(config.nodeId) point \(point.name): \(values[index].map { "\($0)" } ?? "no value") kept, the registers say \(value)")
                case .failure(let error):
                    FuzzCheck.require(!detector.known[index], "\(config.nodeId) point \(point.name) counted as known though \(error)")
                }
            }
        }
    }

    /// One register point's value, and the registers its value encodes to.
    static func point(_ device: Device, _ input: inout FuzzInput) {
        let points = device.config.points.filter { !$0.table.holdsBits }
        guard !points.isEmpty else { return }
        let point = points[Int(input.byte()) % points.count]
        let registers = words(input.takeRest())
        guard case .success(let value) = PointCodec.decode(point: point, registers: registers[...]) else { return }
        let used = Array(registers.prefix(point.count))
        if point.type == .bit {
            FuzzCheck.require(PointCodec.encodeBit(value) == .success(used[0] & (1 << UInt16(point.bit)) != 0), "bit \(point.name) \(value)")
            return
        }
        let encoded = PointCodec.encode(point: point, value: value)
        guard case .success(let back) = encoded else {
            FuzzCheck.fail("point \(point.name) (\(point.type.rawValue) \(point.order.rawValue)) decodes \(hexText(used.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })) to \(value), which does not encode: \(encoded)")
        }
        FuzzCheck.require(back.count == point.count, "point \(point.name) encodes to \(back.count) registers")
        let unscaled = point.scale == 1 && point.offset == 0
        let exact: Bool
        switch point.type {
        case .string:
            exact = PointCodec.decode(point: point, registers: back[...]) == .success(value)
        case .bool:
            exact = back == [used[0] != 0 ? 1 : 0]
        case .int64, .uint64, .float32, .float64:
            // Scaled, these go through a double: exact only unscaled. A float's -0 reads as 0
            // (the offset is added) and is written back as +0: equal as values.
            exact = !unscaled || back == used
                || (value.doubleValue == 0 && PointCodec.decode(point: point, registers: back[...]) == .success(value))
        default:
            exact = back == used
        }
        FuzzCheck.require(exact, "point \(point.name) (\(point.type.rawValue) \(point.order.rawValue), scale \(point.scale), offset \(point.offset)): registers \(used) decode to \(value), which encodes to \(back)")
    }

    /// A traced answer: a byte for the framing (TCP or RTU) and the table, two bytes of address,
    /// one of count, then the ADU.
    static func traced(_ device: Device, _ input: inout FuzzInput) {
        let choice = input.byte()
        let framing: ModbusFraming = choice & 1 == 0 ? .tcp : .rtu
        let table = ModbusTable.allCases[Int(choice >> 1) % ModbusTable.allCases.count]
        let address = Int(input.word())
        let count = Int(input.byte()) % 125 + 1
        let adu = input.takeRest()
        let request = ModbusRequestPDU.read(table: table, address: address, count: count)
        _ = framing.answerLength(in: adu)
        _ = framing.requestADU(unit: 1, pdu: request.bytes)
        switch framing.check(answer: adu, to: request, unit: 1) {
        case .success(let data):
            let expected = table.holdsBits ? (count + 7) / 8 : count * 2
            FuzzCheck.require(data.count == expected, "a \(table.rawValue) read of \(count) answered with \(data.count) data bytes")
            guard !table.holdsBits else { return }
            let registers = words(data)
            for point in device.config.points where point.table == .holding && point.count <= registers.count {
                _ = PointCodec.decode(point: point, registers: registers.prefix(point.count))
            }
        case .failure(let error):
            _ = error.description
        }
    }
}
