import DeviceCodec
import GatewayCore
import Modbus

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

/// Parsers of device files by kind. Every file in the devices folder is a Modbus device.
enum DeviceFileParsers {
    /// Parses one device file; its reader is finished by the parser.
    static func parse(_ reader: ConfigReader, products: [String: ProductModel]) -> (FieldDeviceEntry, ModbusDeviceConfig)? {
        let line = reader.line(of: "node_id")
        guard let device = ModbusDeviceConfig.parse(reader: reader, products: products) else { return nil }
        let entry = FieldDeviceEntry(nodeId: device.nodeId, productId: device.productId, name: device.name,
                                     source: .modbus, file: reader.file, line: line)
        return (entry, device)
    }
}
