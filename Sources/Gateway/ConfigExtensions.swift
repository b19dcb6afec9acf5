import DeviceCodec
import GatewayCore
import Modbus
import Serial

/// Parsers of the parts of product files that other modules own (the `[codec]` table).
enum ProductFileExtensions {
    /// The product's codec, if it declares one; problems go to the reader's diagnostics.
    static func parse(_ reader: ConfigReader, _ product: ProductModel?) -> ProductCodec? {
        guard let product else {
            reader.markKnown("codec")
            return nil
        }
        return ProductCodec.parse(reader: reader, product: product)
    }
}

/// A device file, parsed by the module its `[transport] kind` names.
enum ParsedDeviceFile {
    case modbus(ModbusDeviceConfig)
    case serial(SerialDeviceConfig)
}

/// Parsers of device files by kind: `[transport] kind = "serial"` is a framed binary device on a
/// serial line; every other kind ("tcp", "rtu", "rtu_over_tcp", or none given) is a Modbus slave.
enum DeviceFileParsers {
    /// Parses one device file; its reader is finished by the parser.
    static func parse(_ reader: ConfigReader, products: [String: ProductModel],
                      codecs: [String: ProductCodec]) -> (FieldDeviceEntry, ParsedDeviceFile)? {
        let line = reader.line(of: "node_id")
        if isSerial(reader.table) {
            guard let device = SerialDeviceConfig.parse(reader: reader, products: products, hasCodec: { codecs[$0] != nil }) else {
                return nil
            }
            let entry = FieldDeviceEntry(nodeId: device.nodeId, productId: device.productId, name: device.name,
                                         source: .serial, file: reader.file, line: line)
            return (entry, .serial(device))
        }
        guard let device = ModbusDeviceConfig.parse(reader: reader, products: products) else { return nil }
        let entry = FieldDeviceEntry(nodeId: device.nodeId, productId: device.productId, name: device.name,
                                     source: .modbus, file: reader.file, line: line)
        return (entry, .modbus(device))
    }

    static func isSerial(_ root: ConfigTable) -> Bool {
        guard case .table(let transport)? = root["transport"]?.value, case .string(let kind)? = transport["kind"]?.value else {
            return false
        }
        return kind == "serial"
    }
}
