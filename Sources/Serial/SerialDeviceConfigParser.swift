import Foundation
import GatewayCore
import SerialFraming

extension SerialDeviceConfig {
    /// Reads a device file whose `[transport] kind` is "serial". Every problem goes to the
    /// reader's diagnostics with its file and line; returns nil when there was any.
    ///
    /// `products`: the product models by id; the device's product must exist, and a poll
    /// request naming a command must name one of its commands without parameters.
    /// `hasCodec`: whether a product declares a `[codec]` (a serial device's frames need one).
    public static func parse(reader: ConfigReader, products: [String: ProductModel],
                             hasCodec: (String) -> Bool) -> SerialDeviceConfig? {
        let before = reader.diagnostics.all.count
        let nodeId = reader.nonEmptyString("node_id")
        let productId = reader.nonEmptyString("product_id")
        let name = reader.string("name", required: false)
        let address = reader.has("address") ? reader.int("address", required: false, range: SerialLimits.addresses,
                                                         fix: "the device's bus address, 0 to 255") : nil
        let silence = reader.int("offline_after_silence_s", default: 600, range: 1...604_800)
        let commandTimeout = reader.int("command_timeout_ms", default: 3000, range: Int(SerialLimits.responseTimeouts.lowerBound)...15_000,
                                        fix: "a command's answer must come back within the platform's 20 s window")
        let product = reader.productModel(productId, in: products)
        if let productId, product != nil, !hasCodec(productId) {
            reader.report("product_id", "product \"\(productId)\" declares no [codec]: a serial device's frames need one",
                          fix: "add a [codec] table to the product file")
        }
        let port = reader.table("transport", required: true).flatMap(parsePort)
        let framing = reader.table("framing", required: true).flatMap { FramingSpec.parse($0) }
        if address != nil, let framing, framing.addressOffset == nil {
            reader.report("address", "the framing has no address byte",
                          fix: "set [framing] address_offset, or remove address")
        }
        if address == nil, let framing, let offset = framing.addressOffset {
            reader.report("address", "the framing has an address byte (offset \(offset)): requests need the device's address",
                          fix: "set address = <the device's bus address>, or remove [framing] address_offset")
        }
        let poll = reader.table("poll").flatMap { parsePoll($0, product: product) }
        reader.finish()

        guard reader.diagnostics.all.count == before, let nodeId, let productId, let port, let framing else { return nil }
        return SerialDeviceConfig(nodeId: nodeId, productId: productId, name: name, port: port, framing: framing,
                                  address: address.map { UInt8($0) }, poll: poll, silenceBeforeOffline: .seconds(silence),
                                  commandTimeout: .milliseconds(commandTimeout), file: reader.file,
                                  line: reader.line(of: "node_id"))
    }

    static func parsePort(_ reader: ConfigReader) -> SerialPortSettings? {
        reader.markKnown("kind")
        let device = reader.nonEmptyString("device", fix: "the serial port, e.g. device = \"/dev/ttyUSB0\"")
        let baud = reader.int("baud", default: 9600, range: 1200...921_600)
        if !SerialLimits.baudRates.contains(baud) {
            reader.report("baud", "\(baud) is not a standard baud rate",
                          fix: "use one of \(SerialLimits.baudRates.sorted().map(String.init).joined(separator: ", "))")
        }
        let parity = reader.choice("parity", as: LineSettings.Parity.self, required: false) ?? .none
        let dataBits = reader.int("data_bits", default: 8, range: 5...8)
        let stopBits = reader.int("stop_bits", default: 1, range: 1...2)
        let rs485 = reader.bool("rs485", default: false)
        let echo = reader.bool("echo", default: false)
        let delay = reader.has("inter_frame_delay_ms")
            ? reader.int("inter_frame_delay_ms", required: false, range: 0...10_000) : nil
        reader.finish()
        guard let device, let line = LineSettings(baud: baud, dataBits: dataBits, parity: parity, stopBits: stopBits) else { return nil }
        return SerialPortSettings(device: device, line: line, rs485: rs485, echo: echo, interFrameDelay: delay.map { .milliseconds($0) })
    }

    static func parsePoll(_ reader: ConfigReader, product: ProductModel?) -> SerialPollSettings? {
        let before = reader.diagnostics.all.count
        let interval = reader.int("interval_ms", required: true, range: SerialLimits.pollIntervals)
        let timeout = reader.int("timeout_ms", default: 1000, range: Int(SerialLimits.responseTimeouts.lowerBound)...Int(SerialLimits.responseTimeouts.upperBound))
        var request: SerialPollSettings.Request?
        switch (reader.has("request"), reader.has("request_hex")) {
        case (true, true):
            reader.markKnown("request", "request_hex")
            reader.report("request_hex", "a poll has one request", fix: "keep request (a command) or request_hex (bytes), not both")
        case (false, false):
            reader.report(nil, "a polled device needs a request",
                          fix: "request = \"<a command of the product without parameters>\", or request_hex = \"AA 55 …\"")
        case (true, false):
            if let command = reader.nonEmptyString("request") {
                request = .command(command)
                if let product {
                    let matches = product.services.flatMap(\.commands).filter { $0.name == command }
                    if matches.isEmpty {
                        reader.report("request", "product \(product.id) has no command \"\(command)\"",
                                      fix: "name a command of the product that takes no parameters")
                    } else if matches.contains(where: { $0.paras.contains(where: \.required) }) {
                        reader.report("request", "command \"\(command)\" has required parameters; a poll sends none",
                                      fix: "name a command without required parameters, or use request_hex")
                    }
                }
            }
        case (false, true):
            if let text = reader.nonEmptyString("request_hex") {
                if let bytes = HexBytes.parse(text), !bytes.isEmpty { request = .bytes(bytes) } else {
                    reader.report("request_hex", "\"\(text)\" is not hex bytes", fix: "write bytes as hex pairs, e.g. \"AA 55 01 01 81 F0 3C\"")
                }
            }
        }
        reader.finish()
        guard reader.diagnostics.all.count == before, let interval, let request else { return nil }
        return SerialPollSettings(interval: .milliseconds(interval), request: request, responseTimeout: .milliseconds(timeout))
    }

    /// Devices are checked together: one port is one line (same settings on every device that
    /// names it), addresses are unique on a port, and a port with more than one device routes
    /// frames by address. `modbusPorts`: the serial ports Modbus RTU devices use; a device that
    /// reports on its own cannot share one (it would talk over the master's transactions).
    public static func validateTogether(_ devices: [SerialDeviceConfig], modbusPorts: [String: LineSettings],
                                        diagnostics: ConfigDiagnostics) {
        let byPort = Dictionary(grouping: devices) { SerialLineArbiters.canonicalPath($0.port.device) }
        for (path, members) in byPort.sorted(by: { $0.key < $1.key }) {
            guard let first = members.first else { continue }
            // Named alike or not (/dev/serial/by-id/… and /dev/ttyUSB0), one port has one set of settings.
            for device in members.dropFirst() where { var port = device.port; port.device = first.port.device; return port }() != first.port {
                diagnostics.report(file: device.file, line: device.line, keyPath: "transport",
                                   problem: "port \(device.port.device) is declared with other settings in \(first.file)",
                                   fix: "give every device on one port the same baud, parity, data_bits, stop_bits, rs485, echo and inter_frame_delay_ms")
            }
            for device in members.dropFirst() where device.framing != first.framing {
                diagnostics.report(file: device.file, line: device.line, keyPath: "framing",
                                   problem: "port \(device.port.device) is framed otherwise in \(first.file)",
                                   fix: "devices on one port share one framing: declare the same [framing] in each file")
            }
            if members.count > 1 {
                for device in members where device.address == nil {
                    diagnostics.report(file: device.file, line: device.line, keyPath: "address",
                                       problem: "\(members.count) devices share \(device.port.device): each needs its address",
                                       fix: "set address (and [framing] address_offset)")
                }
                var seen: [UInt8: SerialDeviceConfig] = [:]
                for device in members {
                    guard let address = device.address else { continue }
                    if let other = seen[address] {
                        diagnostics.report(file: device.file, line: device.line, keyPath: "address",
                                           problem: "address \(address) on \(device.port.device) is also \(other.nodeId)'s (\(other.file))",
                                           fix: "give each device on a port its own address")
                    }
                    seen[address] = device
                }
            }
            if let modbusLine = modbusPorts.first(where: { SerialLineArbiters.canonicalPath($0.key) == path })?.value {
                for device in members {
                    if device.poll == nil {
                        diagnostics.report(file: device.file, line: device.line, keyPath: "poll",
                                           problem: "\(device.port.device) also carries Modbus RTU devices; a device that reports on its own would talk over the master",
                                           fix: "poll this device ([poll]), or give it a port of its own")
                    }
                    if device.port.line != modbusLine {
                        diagnostics.report(file: device.file, line: device.line, keyPath: "transport",
                                           problem: "\(device.port.device) is declared with other line settings by its Modbus RTU devices",
                                           fix: "use the same baud, parity, data_bits and stop_bits on both")
                    }
                }
            }
        }
    }
}
