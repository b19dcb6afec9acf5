import Config
import Foundation
import GatewayCore
import SerialFraming
import Testing
import TestSupport
@testable import Serial

/// Serial device files: the sample, and the mistakes a technician can make, each with its line.
@Suite struct SerialDeviceConfigTests {
    static func products() -> [String: ProductModel] {
        guard case .success(let document) = TOMLDocumentParser.load(path: "\(Paths.packageRoot)/etc/edgegw/products/level-sensor.toml")
        else { return [:] }
        let reader = ConfigReader(document: document, diagnostics: ConfigDiagnostics())
        reader.markKnown("codec")
        guard let product = ProductModel.parse(reader) else { return [:] }
        return [product.id: product]
    }

    static func parse(_ text: String, file: String = "dev.toml") -> (SerialDeviceConfig?, [ConfigDiagnostic]) {
        let diagnostics = ConfigDiagnostics()
        switch TOMLDocumentParser.parse(text: text, file: file) {
        case .failure(let diagnostic): return (nil, [diagnostic])
        case .success(let document):
            let config = SerialDeviceConfig.parse(reader: ConfigReader(document: document, diagnostics: diagnostics),
                                                  products: products(), hasCodec: { $0 == "level-sensor" })
            return (config, diagnostics.all)
        }
    }

    static let base = """
    node_id = "t1"
    product_id = "level-sensor"
    address = 1
    [transport]
    kind = "serial"
    device = "/dev/ttyS9"
    baud = 19200
    [framing]
    start = "AA 55"
    address_offset = 2
    [framing.length_field]
    offset = 3
    size = 1
    counts = "payload"
    [framing.checksum]
    type = "crc16_modbus"
    from = 2
    """

    @Test func theSampleDeviceFileIsValid() throws {
        let text = try String(contentsOfFile: "\(Paths.packageRoot)/etc/edgegw/devices/tank-level.toml", encoding: .utf8)
        let (config, problems) = Self.parse(text, file: "tank-level.toml")
        #expect(problems.isEmpty, "\(problems)")
        let device = try #require(config)
        #expect(device.nodeId == "tank-01")
        #expect(device.address == 1)
        #expect(device.port.device == "/dev/ttyUSB1")
        #expect(device.port.line == LineSettings(baud: 9600))
        #expect(device.port.rs485)
        #expect(device.poll == SerialPollSettings(interval: .seconds(5), request: .command("READ"), responseTimeout: .seconds(1)))
        #expect(device.framing.addressOffset == 2)
        // 3.5 characters of 10 bits at 9600 baud: 3.646 ms.
        #expect(abs((device.interFrameDelay - .microseconds(3646)).seconds) < 1e-6, "\(device.interFrameDelay)")
    }

    @Test func aDeviceThatReportsOnItsOwnNeedsNoPoll() throws {
        let (config, problems) = Self.parse(Self.base)
        #expect(problems.isEmpty, "\(problems)")
        #expect(try #require(config).poll == nil)
    }

    @Test func pollRequestsAreCommandsWithoutParametersOrLiteralBytes() throws {
        let hex = Self.parse(Self.base + "\n[poll]\ninterval_ms = 1000\nrequest_hex = \"AA 55 01 01 81 E1 F0\"\n")
        #expect(hex.1.isEmpty, "\(hex.1)")
        #expect(hex.0?.poll?.request == .bytes([0xAA, 0x55, 0x01, 0x01, 0x81, 0xE1, 0xF0]))

        let withParameters = Self.parse(Self.base + "\n[poll]\ninterval_ms = 1000\nrequest = \"SET_THRESHOLD\"\n")
        #expect(withParameters.1.map(\.keyPath) == ["poll.request"])
        #expect(withParameters.1.first?.line == 20)

        let unknown = Self.parse(Self.base + "\n[poll]\ninterval_ms = 1000\nrequest = \"NOPE\"\n")
        #expect(unknown.1.map(\.keyPath) == ["poll.request"])

        let both = Self.parse(Self.base + "\n[poll]\ninterval_ms = 1000\nrequest = \"READ\"\nrequest_hex = \"81\"\n")
        #expect(both.1.map(\.keyPath) == ["poll.request_hex"])

        let none = Self.parse(Self.base + "\n[poll]\ninterval_ms = 1000\n")
        #expect(none.1.count == 1)

        let fast = Self.parse(Self.base + "\n[poll]\ninterval_ms = 10\nrequest = \"READ\"\n")
        #expect(fast.1.map(\.keyPath) == ["poll.interval_ms"])
    }

    @Test func mistakesAreReportedWithTheirLines() {
        let badBaud = Self.parse(Self.base.replacingOccurrences(of: "baud = 19200", with: "baud = 12345"))
        #expect(badBaud.1.map(\.keyPath) == ["transport.baud"])
        #expect(badBaud.1.first?.line == 7)

        let noAddressByte = Self.parse(Self.base.replacingOccurrences(of: "address_offset = 2\n", with: ""))
        #expect(noAddressByte.1.map(\.keyPath) == ["address"])

        // The layout has an address byte: requests cannot be framed without the device's address.
        let noAddress = Self.parse(Self.base.replacingOccurrences(of: "address = 1\n", with: ""))
        #expect(noAddress.1.map(\.keyPath) == ["address"])

        let unknownKey = Self.parse(Self.base.replacingOccurrences(of: "baud = 19200", with: "baud = 19200\nbaudrate = 9600"))
        #expect(unknownKey.1.map(\.keyPath) == ["transport.baudrate"])

        let noProduct = Self.parse(Self.base.replacingOccurrences(of: "level-sensor", with: "flow-meter"))
        #expect(noProduct.1.map(\.keyPath) == ["product_id"])

        let noFraming = Self.parse(String(Self.base[..<Self.base.range(of: "[framing]")!.lowerBound]))
        #expect(noFraming.1.map(\.keyPath) == ["framing"])
    }

    @Test func devicesOnOnePortAreCheckedTogether() throws {
        let one = try #require(Self.parse(Self.base).0)
        var two = one
        two.nodeId = "t2"
        two.file = "t2.toml"
        let sameAddress = ConfigDiagnostics()
        SerialDeviceConfig.validateTogether([one, two], modbusPorts: [:], diagnostics: sameAddress)
        #expect(sameAddress.all.map(\.keyPath) == ["address"])

        two.address = 2
        two.port.line = try #require(LineSettings(baud: 9600))
        let otherSettings = ConfigDiagnostics()
        SerialDeviceConfig.validateTogether([one, two], modbusPorts: [:], diagnostics: otherSettings)
        #expect(otherSettings.all.map(\.keyPath) == ["transport"])

        // A port shared with Modbus RTU devices: an unsolicited device would talk over the master.
        let shared = ConfigDiagnostics()
        SerialDeviceConfig.validateTogether([one], modbusPorts: ["/dev/ttyS9": one.port.line], diagnostics: shared)
        #expect(shared.all.map(\.keyPath) == ["poll"])
    }
}
