import Config
import DeviceCodec
import Foundation
import GatewayCore

/// The commented sample files under etc/edgegw, read once: the product models and codecs the
/// targets decode with, the devices whose layouts and points they exercise. A sample that does
/// not parse is a broken checkout, not an input: it stops the run with its problems.
enum SampleFiles {
    /// The checkout this file was built from: Tools/FuzzTargets/ is two levels down.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var etc: String { packageRoot + "/etc/edgegw" }

    static func text(_ relativePath: String) -> String {
        let path = etc + "/" + relativePath
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            FuzzCheck.fail("cannot read the sample file \(path)")
        }
        return text
    }

    static func files(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: etc + "/" + folder)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted().map { folder + "/" + $0 }
    }

    /// The root reader of a sample file; traps with the file's problems when it does not parse.
    static func reader(_ relativePath: String, diagnostics: ConfigDiagnostics) -> ConfigReader {
        switch TOMLDocumentParser.parse(text: text(relativePath), file: relativePath) {
        case .success(let document): return ConfigReader(document: document, diagnostics: diagnostics)
        case .failure(let diagnostic): FuzzCheck.fail("sample \(relativePath) does not parse: \(diagnostic)")
        }
    }

    static func requireClean(_ diagnostics: ConfigDiagnostics, _ what: String) {
        FuzzCheck.require(diagnostics.all.isEmpty, "\(what) has problems:\n"
            + diagnostics.all.map(\.description).joined(separator: "\n"))
    }

    /// The product files' models and codecs, by product id.
    static let productFiles: (products: [String: ProductModel], codecs: [String: ProductCodec]) = {
        var products: [String: ProductModel] = [:]
        var codecs: [String: ProductCodec] = [:]
        for file in files(in: "products") {
            let diagnostics = ConfigDiagnostics()
            let root = reader(file, diagnostics: diagnostics)
            guard let product = ProductModel.parse(root) else { requireClean(diagnostics, file); FuzzCheck.fail("\(file): no product") }
            if let codec = ProductCodec.parse(reader: root, product: product) { codecs[product.id] = codec }
            root.finish()
            requireClean(diagnostics, file)
            products[product.id] = product
        }
        FuzzCheck.require(!codecs.isEmpty, "no sample product under \(etc)/products declares a codec")
        return (products, codecs)
    }()

    static var products: [String: ProductModel] { productFiles.products }
    static var codecs: [String: ProductCodec] { productFiles.codecs }
}

/// A product file given as text (the targets' own test products), parsed the way `edgegw check`
/// parses one; traps with the problems when it does not parse, since the text is the target's.
func productFile(_ text: String, file: String) -> (ProductModel, ProductCodec?) {
    let diagnostics = ConfigDiagnostics()
    switch TOMLDocumentParser.parse(text: text, file: file) {
    case .failure(let diagnostic):
        FuzzCheck.fail("\(file) does not parse: \(diagnostic)")
    case .success(let document):
        let root = ConfigReader(document: document, diagnostics: diagnostics)
        let product = ProductModel.parse(root)
        let codec = product.flatMap { ProductCodec.parse(reader: root, product: $0) }
        if product == nil { root.markKnown("codec") }
        root.finish()
        SampleFiles.requireClean(diagnostics, file)
        guard let product else { FuzzCheck.fail("\(file): no product") }
        return (product, codec)
    }
}
