import DeviceCodec
import GatewayCore

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

/// Parsers of device files by kind.
enum DeviceFileParsers {
    /// Until the Modbus device schema is wired, a device file is `[device]` with
    /// `node_id`, `product` and an optional `name`.
    static func parse(_ reader: ConfigReader, products: [String: ProductModel]) -> [FieldDeviceEntry] {
        guard let device = reader.table("device", required: true) else { return [] }
        let nodeId = device.nonEmptyString("node_id")
        let productId = device.nonEmptyString("product")
        let name = device.string("name", required: false)
        if let productId, products[productId] == nil {
            device.report("product", "unknown product \"\(productId)\"",
                          fix: "define it in the products folder, or use one of: \(products.keys.sorted().joined(separator: ", "))")
        }
        device.finish()
        guard let nodeId, let productId else { return [] }
        return [FieldDeviceEntry(nodeId: nodeId, productId: productId, name: name, source: .modbus,
                                 file: reader.file, line: device.line(of: "node_id"))]
    }
}
