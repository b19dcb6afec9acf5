import Config
import DeviceCodec
import Foundation
import GatewayCore
import TestSupport

/// Parses product-file text the way `edgegw check` does, returning the codec and every diagnostic.
struct CodecFixture {
    var codec: ProductCodec?
    var diagnostics: [ConfigDiagnostic]

    init(_ text: String, file: String = "product.toml") {
        switch TOMLDocumentParser.parse(text: text, file: file) {
        case .failure(let diagnostic):
            codec = nil
            diagnostics = [diagnostic]
        case .success(let document):
            let collected = ConfigDiagnostics()
            let reader = ConfigReader(document: document, diagnostics: collected)
            let product = ProductModel.parse(reader)
            codec = product.flatMap { ProductCodec.parse(reader: reader, product: $0) }
            if product == nil { reader.markKnown("codec") }
            reader.finish()
            diagnostics = collected.all
        }
    }

    static var waterMeterPath: String { Paths.packageRoot + "/etc/edgegw/products/water-meter.toml" }

    static func waterMeter() throws -> ProductCodec {
        let text = try String(contentsOfFile: waterMeterPath, encoding: .utf8)
        let fixture = CodecFixture(text, file: waterMeterPath)
        guard let codec = fixture.codec else {
            throw FixtureError(description: fixture.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return codec
    }

    /// Line (1-based) of the first line of `text` containing `marker`.
    static func line(of marker: String, in text: String) -> Int? {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(marker) }.map { $0 + 1 }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}

/// A small product model for hand-made codecs: one service `S` with the named properties,
/// and a command `CMD` with paras/responses.
func productHeader(properties: [(String, String)] = [("a", "int"), ("b", "int")],
                   paras: [(String, String)] = [("p", "int")],
                   responses: [(String, String)] = [("r", "int")]) -> String {
    var text = """
    [product]
    id = "test-product"
    protocol = "LwM2M"
    data_format = "binary"

    [[services]]
    id = "S"

    """
    for (name, type) in properties {
        text += "[[services.properties]]\nname = \"\(name)\"\ntype = \"\(type)\"\n\n"
    }
    text += "[[services.commands]]\nname = \"CMD\"\n\n"
    for (name, type) in paras {
        text += "[[services.commands.paras]]\nname = \"\(name)\"\ntype = \"\(type)\"\n\n"
    }
    for (name, type) in responses {
        text += "[[services.commands.responses]]\nname = \"\(name)\"\ntype = \"\(type)\"\n\n"
    }
    return text
}

/// A product whose command `CMD` has one string parameter, `parameter`, sent as an array of
/// `length` bytes (Base64 in the command's JSON).
func arrayCommandProduct(parameter: String, length: Int) -> String {
    productHeader(properties: [], paras: [(parameter, "string")], responses: []) + """
    [[codec.downlink]]
    name = "c"
    kind = "command"
    command = "CMD"

    [[codec.downlink.fields]]
    name = "\(parameter)"
    type = "array"
    length = \(length)
    """
}
