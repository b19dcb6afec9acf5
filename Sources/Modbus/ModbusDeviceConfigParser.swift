import Foundation
import GatewayCore

extension ModbusDeviceConfig {
    /// Reads one device file (`devices/*.toml`). Every problem goes to `reader.diagnostics`
    /// with its file and line; returns nil when there was any.
    ///
    /// `products` are the product models by id: every point must name a property the device's
    /// product defines, and every command mapping a command it defines.
    public static func parse(reader: ConfigReader, products: [String: ProductModel]) -> ModbusDeviceConfig? {
        let before = reader.diagnostics.all.count
        let nodeId = reader.nonEmptyString("node_id")
        let productId = reader.nonEmptyString("product_id")
        let name = reader.string("name", required: false)
        let unitId = reader.int("unit_id", required: true, range: Int64(ModbusLimits.unitIds.lowerBound)...Int64(ModbusLimits.unitIds.upperBound),
                                fix: "use the slave's unit id, 1 to 247")
        let writeMultipleOnly = reader.bool("write_multiple_only", default: false)

        let product = reader.productModel(productId, in: products)

        let transportReader = reader.table("transport", required: true)
        let (transport, overrides) = transportReader.map(parseTransport) ?? (nil, ModbusBusOverrides())

        var maxGapRegisters = defaultMaxGapRegisters, maxGapBits = defaultMaxGapBits
        var maxReadRegisters = ModbusLimits.maxReadRegisters, maxReadBits = ModbusLimits.maxReadBits
        if let read = reader.table("read") {
            maxReadRegisters = read.int("max_registers", default: maxReadRegisters, range: 1...ModbusLimits.maxReadRegisters)
            maxReadBits = read.int("max_bits", default: maxReadBits, range: 1...ModbusLimits.maxReadBits)
            maxGapRegisters = read.int("max_gap_registers", default: maxGapRegisters, range: 0...(ModbusLimits.maxReadRegisters - 2))
            maxGapBits = read.int("max_gap_bits", default: maxGapBits, range: 0...(ModbusLimits.maxReadBits - 2))
            read.finish()
        }

        var groups: [ModbusPollGroup] = []
        for groupReader in reader.tables("poll_groups") {
            let groupName = groupReader.nonEmptyString("name")
            let interval = groupReader.int("interval_ms", required: true,
                                           range: Int64(minimumPollInterval.milliseconds)...86_400_000)
            groupReader.finish()
            guard let groupName, let interval else { continue }
            if groups.contains(where: { $0.name == groupName }) {
                groupReader.report("name", "poll group \"\(groupName)\" is declared twice")
                continue
            }
            groups.append(ModbusPollGroup(name: groupName, interval: .milliseconds(interval)))
        }
        if groups.isEmpty { groups = [ModbusPollGroup(name: "default", interval: defaultPollInterval)] }

        var points: [ModbusPoint] = []
        let pointReaders = reader.tables("points", required: true)
        if pointReaders.isEmpty, reader.has("points") {
            reader.report("points", "a device needs at least one point", fix: "add a [[points]] table")
        }
        for pointReader in pointReaders {
            guard let point = parsePoint(pointReader, groups: groups, product: product,
                                         maxReadRegisters: maxReadRegisters) else { continue }
            if let earlier = points.first(where: { $0.name == point.name }) {
                pointReader.report("name", "point \"\(point.name)\" is already declared at line \(earlier.line ?? 0)")
                continue
            }
            if point.report, let earlier = points.first(where: { $0.report && $0.serviceId == point.serviceId && $0.property == point.property }) {
                pointReader.report("property", "\(point.serviceId).\(point.property) is already mapped by point \"\(earlier.name)\"",
                                   fix: "map each property to one point")
                continue
            }
            points.append(point)
        }
        reportOverlaps(points, reader: reader)

        var commands: [ModbusCommandMapping] = []
        for commandReader in reader.tables("commands") {
            if let command = parseCommand(commandReader, points: points, product: product) { commands.append(command) }
        }
        reader.finish()

        guard reader.diagnostics.all.count == before, let nodeId, let productId, let unitId, let transport else { return nil }
        var device = ModbusDeviceConfig(nodeId: nodeId, productId: productId, name: name, transport: transport,
                                        busOverrides: overrides, unitId: Int(unitId), pollGroups: groups, points: points,
                                        commands: commands, maxGapRegisters: maxGapRegisters, maxGapBits: maxGapBits,
                                        maxReadRegisters: maxReadRegisters, maxReadBits: maxReadBits,
                                        writeMultipleOnly: writeMultipleOnly, file: reader.file)
        device.lines = Lines(unitId: reader.line(of: "unit_id"), transport: reader.line(of: "transport"))
        return device
    }

    enum TransportKind: String, CaseIterable {
        case rtu
        case tcp
        case rtuOverTCP = "rtu_over_tcp"
    }

    /// Baud rates termios offers (`cfsetspeed`).
    static let baudRates: Set<Int> = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

    static func parseTransport(_ reader: ConfigReader) -> (ModbusTransport?, ModbusBusOverrides) {
        let kind = reader.choice("kind", as: TransportKind.self)
        var overrides = ModbusBusOverrides()
        if reader.has("inter_request_delay_ms"), let delay = reader.int("inter_request_delay_ms", required: false, range: 0...10_000) {
            overrides.interRequestDelay = .milliseconds(delay)
        }
        if reader.has("timeout_ms"), let timeout = reader.int("timeout_ms", required: false, range: 1...60_000) {
            overrides.responseTimeout = .milliseconds(timeout)
        }
        var transport: ModbusTransport?
        switch kind {
        case .tcp, .rtuOverTCP:
            let host = reader.nonEmptyString("host")
            let port = reader.int("port", default: 502, range: 1...65535)
            if let host { transport = kind == .tcp ? .tcp(host: host, port: port) : .rtuOverTCP(host: host, port: port) }
        case .rtu:
            let device = reader.nonEmptyString("device", fix: "the serial port, e.g. device = \"/dev/ttyUSB0\"")
            let baud = reader.int("baud", default: 9600, range: 1200...921_600)
            if !baudRates.contains(baud) {
                reader.report("baud", "\(baud) is not a standard baud rate",
                              fix: "use one of \(baudRates.sorted().map(String.init).joined(separator: ", "))")
            }
            let parity = reader.choice("parity", as: ModbusTransport.SerialSettings.Parity.self, required: false) ?? .none
            let dataBits = reader.int("data_bits", default: 8, range: 5...8)
            let stopBits = reader.int("stop_bits", default: 1, range: 1...2)
            let rs485 = reader.bool("rs485", default: false)
            if let device {
                transport = .rtu(.init(device: device, baud: baud, parity: parity, dataBits: dataBits,
                                       stopBits: stopBits, rs485: rs485))
            }
        case nil:
            reader.markKnown("host", "port", "device", "baud", "parity", "data_bits", "stop_bits", "rs485")
        }
        reader.finish()
        return (transport, overrides)
    }

    static func parsePoint(_ reader: ConfigReader, groups: [ModbusPollGroup], product: ProductModel?,
                           maxReadRegisters: Int) -> ModbusPoint? {
        let before = reader.diagnostics.all.count
        let name = reader.nonEmptyString("name")
        let report = reader.bool("report", default: true)
        let serviceId = reader.nonEmptyString("service_id", required: report) ?? (report ? nil : "")
        let property = reader.nonEmptyString("property", required: false) ?? name
        let table = reader.choice("table", as: ModbusTable.self)
        let address = reader.int("address", required: true, range: 0...Int64(ModbusLimits.maxAddress),
                                 fix: "use the protocol address, 0 to 65535 (register 40001 is holding address 0)")
        var type = reader.choice("type", as: ModbusDataType.self, required: !(table?.holdsBits ?? false))
        if type == nil, table?.holdsBits == true, !reader.has("type") { type = .bool }
        let order = reader.choice("order", as: ModbusByteOrder.self, required: false) ?? .abcd
        let scale = reader.double("scale", required: false) ?? 1
        let offset = reader.double("offset", required: false) ?? 0
        let unit = reader.string("unit", required: false)
        let deadband = reader.double("deadband", required: false, range: 0...Double.greatestFiniteMagnitude) ?? 0
        let writable = reader.bool("writable", default: false)
        var bit = 0
        var length = 1
        if type == .bit {
            bit = Int(reader.int("bit", required: true, range: 0...15, fix: "bit = 0 is the least significant bit") ?? 0)
        }
        if type == .string {
            length = Int(reader.int("length", required: true, range: 1...Int64(maxReadRegisters),
                                    fix: "the number of registers the text takes (two characters each)") ?? 1)
        }
        if scale == 0 { reader.report("scale", "scale must not be 0") }

        var groupIndex = 0
        if let groupName = reader.string("group", required: false) {
            if let index = groups.firstIndex(where: { $0.name == groupName }) {
                groupIndex = index
            } else {
                reader.report("group", "no poll group \"\(groupName)\"",
                              fix: "use one of \(groups.map { "\"\($0.name)\"" }.joined(separator: ", "))")
            }
        }

        if let table, let type {
            if table.holdsBits, type != .bool {
                reader.report("type", "a \(table.rawValue) holds single bits: its type can only be \"bool\"")
            }
            if !table.holdsBits, type == .bool {
                reader.report("type", "\"bool\" is for coil and discrete tables",
                              fix: "use type = \"bit\" with bit = N for one bit of a register")
            }
            if writable, !table.isWritable {
                reader.report("writable", "\(table.rawValue) registers are read-only in Modbus",
                              fix: "only coil and holding points can be writable")
            }
            if type == .string || type == .bool || type == .bit, scale != 1 || offset != 0 {
                reader.report(reader.has("scale") ? "scale" : "offset", "scale and offset apply to numbers only")
            }
            if let address {
                let count = table.holdsBits ? 1 : type.registerCount(stringLength: length)
                if Int(address) + count - 1 > ModbusLimits.maxAddress {
                    reader.report("address", "\(type.rawValue) at \(address) takes \(count) registers and runs past address \(ModbusLimits.maxAddress)")
                }
            }
        }

        if report, let product, let serviceId, let property {
            if product.service(serviceId) == nil {
                reader.report("service_id", "product \"\(product.id)\" has no service \"\(serviceId)\"",
                              fix: "use one of \(product.services.map { "\"\($0.id)\"" }.joined(separator: ", "))")
            } else if let definition = product.property(service: serviceId, name: property) {
                if let type { checkCompatible(type: type, property: definition, reader: reader) }
                if writable, !definition.access.isWritable {
                    reader.report("writable", "property \(serviceId).\(property) is read-only in product \"\(product.id)\"",
                                  fix: "set access = \"RW\" in the product model, or writable = false")
                }
            } else {
                reader.report(reader.has("property") ? "property" : "name",
                              "product \"\(product.id)\" does not define property \"\(property)\" in service \"\(serviceId)\"",
                              fix: "add it to the product model or map the point to a property it defines")
            }
        }
        reader.finish()
        guard reader.diagnostics.all.count == before, let name, let serviceId, let property, let table, let type,
              let address else { return nil }
        return ModbusPoint(name: name, serviceId: serviceId, property: property, table: table, address: Int(address),
                           type: type, order: order, bit: bit, length: length, scale: scale, offset: offset, unit: unit,
                           deadband: deadband, writable: writable, report: report, group: groupIndex,
                           line: reader.table.line)
    }

    static func checkCompatible(type: ModbusDataType, property: ProductModel.Property, reader: ConfigReader) {
        let fits: Bool
        switch (type, property.type) {
        case (.string, .string), (.string, .dateTime): fits = true
        case (.string, _): fits = false
        case (.bool, .boolean), (.bit, .boolean), (.bool, .int), (.bit, .int): fits = true
        case (_, .int), (_, .decimal): fits = type.isNumeric
        default: fits = false
        }
        if !fits {
            reader.report("type", "a \(type.rawValue) point cannot carry property \(property.name) of type \(property.type.rawValue)")
        }
    }

    /// Two points of one table may not share a register, except bits of one register that differ.
    static func reportOverlaps(_ points: [ModbusPoint], reader: ConfigReader) {
        for table in ModbusTable.allCases {
            let sorted = points.filter { $0.table == table }.sorted { ($0.address, $0.line ?? 0) < ($1.address, $1.line ?? 0) }
            var open: [ModbusPoint] = []   // points whose span reaches the current address
            for point in sorted {
                open.removeAll { $0.span.upperBound < point.address }
                for other in open {
                    if point.type == .bit, other.type == .bit, point.address == other.address {
                        if point.bit != other.bit { continue }
                    }
                    reader.diagnostics.report(
                        file: reader.file, line: point.line, keyPath: "points",
                        problem: "point \"\(point.name)\" (\(table.rawValue) \(point.span.lowerBound)…\(point.span.upperBound)) overlaps point \"\(other.name)\" (\(other.span.lowerBound)…\(other.span.upperBound)) declared at line \(other.line ?? 0)",
                        fix: "check the addresses and types against the device's register map")
                }
                open.append(point)
            }
        }
    }

    static func parseCommand(_ reader: ConfigReader, points: [ModbusPoint], product: ProductModel?) -> ModbusCommandMapping? {
        let before = reader.diagnostics.all.count
        let serviceId = reader.nonEmptyString("service_id")
        let name = reader.nonEmptyString("name")
        let definition = product.flatMap { product in serviceId.flatMap { s in name.flatMap { product.command(service: s, name: $0) } } }
        if let product, let serviceId, let name, definition == nil {
            reader.report("name", "product \"\(product.id)\" has no command \"\(name)\" in service \"\(serviceId)\"")
        }
        func writablePoint(_ pointName: String, _ sub: ConfigReader, key: String) -> Bool {
            guard let point = points.first(where: { $0.name == pointName }) else {
                sub.report(key, "no point \"\(pointName)\" in this device"); return false
            }
            if !point.writable { sub.report(key, "point \"\(pointName)\" is not writable", fix: "set writable = true on it"); return false }
            return true
        }
        var paras: [(para: String, point: String)] = []
        if let parasReader = reader.table("paras") {
            for key in parasReader.table.keys {
                guard let pointName = parasReader.string(key) else { continue }
                if let definition, !definition.paras.contains(where: { $0.name == key }) {
                    parasReader.report(key, "command \"\(definition.name)\" has no parameter \"\(key)\"")
                }
                if writablePoint(pointName, parasReader, key: key) { paras.append((key, pointName)) }
            }
            parasReader.finish()
        }
        var constants: [(point: String, value: JSONValue)] = []
        if let setReader = reader.table("set") {
            for key in setReader.table.keys {
                guard let node = setReader.rawNode(key) else { continue }
                let value: JSONValue
                switch node.value {
                case .integer(let i): value = .int(i)
                case .float(let d): value = .double(d)
                case .bool(let b): value = .bool(b)
                case .string(let s): value = .string(s)
                default: setReader.report(key, "expected a number, boolean or string, found \(node.typeName)"); continue
                }
                if writablePoint(key, setReader, key: key) { constants.append((key, value)) }
            }
            setReader.finish()
        }
        if paras.isEmpty, constants.isEmpty, reader.diagnostics.all.count == before {
            reader.report(nil, "command mapping writes nothing", fix: "add paras = { para = \"point\" } or set = { point = value }")
        }
        reader.finish()
        guard reader.diagnostics.all.count == before, let serviceId, let name else { return nil }
        return ModbusCommandMapping(serviceId: serviceId, name: name, paras: paras, constants: constants)
    }

    /// Devices that share a serial port must agree on its settings, and two devices on one bus
    /// may not share a unit id. Reports with each device's file. (Unique node ids across every
    /// kind of field device are the config loader's check.)
    public static func validateTogether(_ devices: [ModbusDeviceConfig], diagnostics: ConfigDiagnostics) {
        var units: [String: ModbusDeviceConfig] = [:]
        var serial: [ModbusBusID: ModbusDeviceConfig] = [:]
        for device in devices {
            let unitKey = "\(device.busId.rawValue)#\(device.unitId)"
            if let other = units[unitKey] {
                diagnostics.report(file: device.file, line: device.lines.unitId, keyPath: "unit_id",
                                   problem: "unit \(device.unitId) on bus \(device.busId) is also \(other.location(other.lines.unitId))",
                                   fix: "give every slave on one bus its own unit id")
            } else { units[unitKey] = device }
            if case .rtu(let settings) = device.transport {
                if let other = serial[device.busId], case .rtu(let otherSettings) = other.transport {
                    if otherSettings != settings {
                        diagnostics.report(file: device.file, line: device.lines.transport, keyPath: "transport",
                                           problem: "serial settings of \(settings.device) differ from \(other.location(other.lines.transport))",
                                           fix: "use the same baud, parity, data_bits, stop_bits and rs485 for every device on one port")
                    }
                } else { serial[device.busId] = device }
            }
        }
    }
}

extension ModbusDeviceConfig {
    /// `file:line`, or the file alone.
    func location(_ line: Int?) -> String { line.map { "\(file):\($0)" } ?? file }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
