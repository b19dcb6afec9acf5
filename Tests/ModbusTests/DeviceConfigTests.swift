import Config
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Modbus

/// Parsing device files: the sample, and every mistake a technician can make, with its line.
@Suite struct DeviceConfigTests {
    static func products() -> [String: ProductModel] {
        let diagnostics = ConfigDiagnostics()
        guard case .success(let document) = TOMLDocumentParser.load(path: "\(Paths.packageRoot)/etc/edgegw/products/power-meter.toml")
        else { return [:] }
        let reader = ConfigReader(document: document, diagnostics: diagnostics)
        guard let product = ProductModel.parse(reader) else { return [:] }
        reader.finish()
        return [product.id: product]
    }

    static func parse(_ text: String, file: String = "dev.toml") -> (ModbusDeviceConfig?, [ConfigDiagnostic]) {
        let diagnostics = ConfigDiagnostics()
        switch TOMLDocumentParser.parse(text: text, file: file) {
        case .failure(let diagnostic): return (nil, [diagnostic])
        case .success(let document):
            let config = ModbusDeviceConfig.parse(reader: ConfigReader(document: document, diagnostics: diagnostics),
                                                  products: products())
            return (config, diagnostics.all)
        }
    }

    static let header = """
    node_id = "m1"
    product_id = "power-meter"
    unit_id = 3
    [transport]
    kind = "tcp"
    host = "127.0.0.1"

    """

    @Test func theSampleDeviceFileIsValid() throws {
        let text = try String(contentsOfFile: "\(Paths.packageRoot)/etc/edgegw/devices/power-meter.toml", encoding: .utf8)
        let (config, problems) = Self.parse(text, file: "power-meter.toml")
        #expect(problems.isEmpty, "\(problems)")
        let device = try #require(config)
        #expect(device.nodeId == "meter-01")
        #expect(device.transport == .tcp(host: "127.0.0.1", port: 1502))
        #expect(device.busId == ModbusBusID("tcp:127.0.0.1:1502"))
        #expect(device.pollGroups.map(\.name) == ["fast", "slow"])
        #expect(device.point(named: "frequency")?.scale == 0.01)
        #expect(device.point(named: "serial_number")?.length == 8)
        #expect(device.point(named: "energy_reset")?.report == false)
        #expect(device.commands.map(\.name) == ["switch_relay", "reset_energy", "configure"])
        // fast: input 0…7 in one read, coil 0; slow: holding 0…17 (gaps bridged), input 8…9.
        let plans = ReadPlanner.plan(device: device)
        #expect(plans[0].map { "\($0.table.rawValue) \($0.address)+\($0.count)" } == ["input 0+7", "coil 0+1"])
        #expect(plans[1].map { "\($0.table.rawValue) \($0.address)+\($0.count)" } == ["holding 0+18", "input 8+2"])
    }

    @Test func rtuTransport() throws {
        let (config, problems) = Self.parse("""
        node_id = "m1"
        product_id = "power-meter"
        unit_id = 3
        [transport]
        kind = "rtu"
        device = "/dev/ttyUSB1"
        baud = 19200
        parity = "even"
        stop_bits = 2
        rs485 = true
        inter_request_delay_ms = 20
        timeout_ms = 300
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        """)
        #expect(problems.isEmpty, "\(problems)")
        let device = try #require(config)
        #expect(device.transport == .rtu(.init(device: "/dev/ttyUSB1", baud: 19200, parity: .even, dataBits: 8, stopBits: 2, rs485: true)))
        #expect(device.busId == ModbusBusID("rtu:/dev/ttyUSB1"))
        #expect(device.busOverrides == ModbusBusOverrides(interRequestDelay: .milliseconds(20), responseTimeout: .milliseconds(300)))
        #expect(device.pollGroups == [ModbusPollGroup(name: "default", interval: .seconds(5))])
    }

    @Test func rtuOverTCPTransport() throws {
        let (config, problems) = Self.parse(Self.header.replacingOccurrences(of: "kind = \"tcp\"", with: "kind = \"rtu_over_tcp\"\nport = 4001") + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(try #require(config).transport == .rtuOverTCP(host: "127.0.0.1", port: 4001))
        #expect(try #require(config).busId == ModbusBusID("rtu-tcp:127.0.0.1:4001"))
    }

    /// Each bad file gives its problem on the right line.
    @Test(arguments: [
        // Two points share register 1 (line 13 is the second point's table header).
        (header + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        [[points]]
        name = "current"
        service_id = "meter"
        table = "input"
        address = 1
        type = "uint16"
        """, 13, "overlaps point \"voltage\""),
        (header + """
        [[points]]
        name = "energy"
        service_id = "meter"
        table = "input"
        address = 65534
        type = "uint64"
        """, 11, "runs past address 65535"),
        (header + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 70000
        type = "uint16"
        """, 11, "70000 is out of range"),
        (header + """
        [[points]]
        name = "temperature"
        service_id = "meter"
        table = "input"
        address = 0
        type = "int16"
        """, 8, "does not define property \"temperature\""),
        (header + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float16"
        """, 12, "unknown value \"float16\""),
        (header + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        adress = 4
        """, 13, "unknown key"),
        (header + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        writable = true
        """, 13, "read-only in Modbus"),
        (header + """
        [[points]]
        name = "current"
        service_id = "meter"
        table = "holding"
        address = 0
        type = "float32"
        writable = true
        """, 13, "is read-only in product"),
        (header + """
        [[points]]
        name = "serial_number"
        service_id = "meter"
        table = "holding"
        address = 0
        type = "uint32"
        """, 12, "cannot carry property serial_number"),
        (header + """
        [[points]]
        name = "relay"
        service_id = "meter"
        table = "holding"
        address = 0
        type = "bool"
        """, 12, "\"bool\" is for coil and discrete tables"),
        (header + """
        [[points]]
        name = "relay"
        service_id = "meter"
        table = "coil"
        address = 0
        writable = true
        [[commands]]
        service_id = "meter"
        name = "switch_relay"
        paras = { state = "relais" }
        """, 16, "no point \"relais\""),
        (header + """
        [[points]]
        name = "relay"
        service_id = "meter"
        table = "coil"
        address = 0
        writable = true
        [[commands]]
        service_id = "meter"
        name = "self_destruct"
        set = { relay = true }
        """, 15, "has no command \"self_destruct\""),
    ])
    func mistakesAreReportedWithTheirLine(text: String, line: Int, problem: String) {
        let (config, problems) = Self.parse(text)
        #expect(config == nil)
        let match = problems.first { $0.description.contains(problem) }
        #expect(match != nil, "\(problems.map(\.description))")
        #expect(match?.line == line, "\(problems.map(\.description))")
        #expect(match?.file == "dev.toml")
    }

    @Test func unknownProductIsReported() {
        let (config, problems) = Self.parse(Self.header.replacingOccurrences(of: "power-meter", with: "heat-pump") + """
        [[points]]
        name = "voltage"
        service_id = "meter"
        table = "input"
        address = 0
        type = "float32"
        """)
        #expect(config == nil)
        #expect(problems.contains { $0.keyPath == "product_id" && $0.line == 2 && $0.problem.contains("heat-pump") })
    }

    @Test func bitsOfOneRegisterMayShareItButNotABit() {
        let text = Self.header + """
        [[points]]
        name = "running"
        service_id = "meter"
        table = "holding"
        address = 2
        type = "bit"
        bit = 0
        [[points]]
        name = "relay"
        service_id = "meter"
        table = "holding"
        address = 2
        type = "bit"
        bit = 1
        """
        #expect(Self.parse(text).1.isEmpty)
        let clash = Self.parse(text.replacingOccurrences(of: "bit = 1", with: "bit = 0"))
        #expect(clash.0 == nil)
        #expect(clash.1.contains { $0.problem.contains("overlaps") })
    }

    @Test func devicesOnOneBusMustAgree() throws {
        let diagnostics = ConfigDiagnostics()
        let serial = ModbusTransport.SerialSettings(device: "/dev/ttyS1", baud: 9600)
        var other = serial
        other.baud = 19200
        func device(_ node: String, unit: Int, _ settings: ModbusTransport.SerialSettings, file: String) -> ModbusDeviceConfig {
            ModbusDeviceConfig(nodeId: node, productId: "power-meter", transport: .rtu(settings), unitId: unit,
                               pollGroups: [], points: [], file: file)
        }
        ModbusDeviceConfig.validateTogether([
            device("a", unit: 1, serial, file: "a.toml"),
            device("b", unit: 1, serial, file: "b.toml"),
            device("a", unit: 2, other, file: "c.toml"),
        ], diagnostics: diagnostics)
        let problems = diagnostics.all.map(\.description)
        #expect(problems.contains { $0.hasPrefix("b.toml") && $0.contains("unit 1 on bus rtu:/dev/ttyS1 is also a.toml") })
        // Unique node ids across every kind of device are the config loader's check (GatewayTests).
        #expect(problems.contains { $0.hasPrefix("c.toml") && $0.contains("serial settings of /dev/ttyS1 differ") })
    }
}

@Suite struct ModbusSettingsTests {
    @Test func modbusTableOfTheGatewayConfig() throws {
        let diagnostics = ConfigDiagnostics()
        guard case .success(let document) = TOMLDocumentParser.parse(text: """
        [modbus]
        inter_request_delay_ms = 5
        response_timeout_ms = 250
        failures_before_offline = 4
        retry_backoff_ms = 2000
        retry_backoff_max_ms = 60000
        full_report_interval_s = 600
        trace_buses = ["rtu:/dev/ttyUSB0"]
        """, file: "edgegw.toml") else { Issue.record("bad TOML"); return }
        let reader = try #require(ConfigReader(document: document, diagnostics: diagnostics).table("modbus"))
        let settings = ModbusSettings.parse(reader)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        #expect(settings == ModbusSettings(interRequestDelay: .milliseconds(5), responseTimeout: .milliseconds(250),
                                           failuresBeforeOffline: 4, retryBackoff: .seconds(2), retryBackoffMax: .seconds(60),
                                           fullReportInterval: .seconds(600), traceBuses: [ModbusBusID("rtu:/dev/ttyUSB0")]))
    }

    @Test func defaultsAndMistakes() throws {
        let diagnostics = ConfigDiagnostics()
        guard case .success(let document) = TOMLDocumentParser.parse(text: """
        [modbus]
        timeout_ms = 250
        trace_buses = ["ttyUSB0"]
        """, file: "edgegw.toml") else { Issue.record("bad TOML"); return }
        let reader = try #require(ConfigReader(document: document, diagnostics: diagnostics).table("modbus"))
        let settings = ModbusSettings.parse(reader)
        #expect(settings.responseTimeout == ModbusSettings.defaultResponseTimeout)
        #expect(diagnostics.all.contains { $0.keyPath == "modbus.timeout_ms" && $0.line == 2 && $0.problem == "unknown key" })
        #expect(diagnostics.all.contains { $0.keyPath == "modbus.trace_buses" && $0.line == 3 })
    }
}
