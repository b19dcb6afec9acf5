import Config
import DeviceCodec
import GatewayCore
import Modbus

/// `toml-config`: a configuration file's bytes through edgegw's own TOML parser, then through
/// what reads `edgegw.toml` (`GatewayConfig.parse`, `[modbus]`) and what reads a product file
/// (`ProductModel.parse`, `ProductCodec.parse`), as `edgegw check` reads them.
///
/// Properties: the answer is a document or one diagnostic, never a crash; every diagnostic's
/// line is a line of the file; every line a node carries is one too; parsing the text and
/// parsing its bytes agree.
enum TOMLConfigTarget {
    static let target = FuzzTarget(
        name: "toml-config", maxInputBytes: 16_384,
        summary: "TOMLDocumentParser, GatewayConfig.parse, ModbusSettings.parse, ProductModel.parse, ProductCodec.parse; lines within the file",
        run: run)

    static func run(_ bytes: [UInt8]) {
        let file = "fuzz.toml"
        let lines = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let document: ConfigDocument
        switch TOMLDocumentParser.parse(bytes: bytes, file: file) {
        case .failure(let diagnostic):
            checkLine(diagnostic, lines: lines)
            return
        case .success(let parsed):
            document = parsed
        }
        checkLines(document.root, lines: lines)
        if let text = String(validating: bytes, as: UTF8.self) {
            // A `nan` value is never equal to itself: such documents are not compared.
            let again = TOMLDocumentParser.parse(text: text, file: file)
            FuzzCheck.require(hasNaN(document.root) || again == .success(document), "text and bytes parse differently")
        }

        let diagnostics = ConfigDiagnostics()
        let root = ConfigReader(document: document, diagnostics: diagnostics)
        _ = GatewayConfig.parse(root, baseDirectory: "/etc/edgegw")
        _ = root.table("modbus").map(ModbusSettings.parse)
        root.markKnown("lwm2m")
        root.finish()

        let product = ConfigReader(document: document, diagnostics: diagnostics)
        if let model = ProductModel.parse(product) {
            _ = ProductCodec.parse(reader: product, product: model)
        } else {
            product.markKnown("codec")
        }
        product.finish()
        for diagnostic in diagnostics.all { checkLine(diagnostic, lines: lines) }
    }

    static func hasNaN(_ table: ConfigTable) -> Bool {
        table.keys.contains { key in table[key].map(hasNaN) ?? false }
    }

    static func hasNaN(_ node: ConfigNode) -> Bool {
        switch node.value {
        case .float(let number): number.isNaN
        case .table(let table): hasNaN(table)
        case .array(let items): items.contains(where: hasNaN)
        default: false
        }
    }

    static func checkLine(_ diagnostic: ConfigDiagnostic, lines: Int) {
        _ = diagnostic.description
        if let line = diagnostic.line {
            FuzzCheck.require((1...lines).contains(line), "diagnostic at line \(line) of a \(lines)-line file: \(diagnostic)")
        }
    }

    static func checkLines(_ table: ConfigTable, lines: Int) {
        if let line = table.line { FuzzCheck.require((1...lines).contains(line), "a table at line \(line) of \(lines)") }
        for key in table.keys {
            guard let node = table[key] else { FuzzCheck.fail("key \(key) listed without a node") }
            check(node, lines: lines)
        }
    }

    static func check(_ node: ConfigNode, lines: Int) {
        if let line = node.line { FuzzCheck.require((1...lines).contains(line), "a value at line \(line) of \(lines)") }
        switch node.value {
        case .table(let table): checkLines(table, lines: lines)
        case .array(let items): for item in items { check(item, lines: lines) }
        default: break
        }
    }
}
