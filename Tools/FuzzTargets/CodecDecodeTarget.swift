import Config
import DeviceCodec
import Foundation
import GatewayCore

/// `codec-decode`: bytes from a device through each product codec's uplink decoder, the way the
/// LwM2M server and the serial lines classify a payload (`ProductCodec.classify`), and through
/// the device side's downlink decoder (simulators, `edgegw codec decode`). An input that begins
/// with `[product]` brings its own product file (up to a 00 byte) and the frame after it: any
/// codec the parser accepts is one the decoder must handle.
///
/// Round trips: a report re-encoded from its values decodes to the same report; a command
/// response and a command likewise. A re-encoding may be refused (a device may report a value
/// outside the product model's range, which the device-side encoder refuses), never differ.
enum CodecDecodeTarget {
    static let target = FuzzTarget(
        name: "codec-decode", maxInputBytes: ProductCodec.maximumFrameBytes + 8,
        summary: "ProductCodec.classify/decode/decodeDownlink with the sample codecs and one of every field type; re-encoded values decode the same",
        run: run)

    /// Inputs that begin with this are a product file of their own, up to a 00 byte, then the frame.
    static let productPrefix = Array("[product]".utf8)

    static func run(_ bytes: [UInt8]) {
        if bytes.starts(with: productPrefix) {
            var input = FuzzInput(bytes)
            let text = String(decoding: input.field(until: 0), as: UTF8.self)
            guard let codec = parsedCodec(text) else { return }
            let frame = input.takeRest()
            uplink(frame, codec)
            downlink(frame, codec)
            return
        }
        checkRawData(bytes, ProductCodec.classify(bytes, codec: nil))
        for codec in FuzzCodecs.all {
            uplink(bytes, codec)
            downlink(bytes, codec)
        }
    }

    /// The codec of a product file, when it parses without a problem.
    static func parsedCodec(_ text: String) -> ProductCodec? {
        guard case .success(let document) = TOMLDocumentParser.parse(text: text, file: "product.toml") else { return nil }
        let diagnostics = ConfigDiagnostics()
        let root = ConfigReader(document: document, diagnostics: diagnostics)
        let codec = ProductModel.parse(root).flatMap { ProductCodec.parse(reader: root, product: $0) }
        return diagnostics.all.isEmpty ? codec : nil
    }

    static func uplink(_ bytes: [UInt8], _ codec: ProductCodec) {
        let disposition = ProductCodec.classify(bytes, codec: codec)
        switch disposition {
        case .report(let report):
            _ = codec.encodeReportResponse(to: report)
            guard let again = try? codec.encodeReport(message: report.message, services: report.services) else { return }
            let decoded = Result { () throws(DecodeError) in try codec.decode(again) }
            FuzzCheck.require(decoded == .success(.report(report)),
                              "\(codec.productId): \(hexText(bytes)) decodes to \(report); re-encoded as \(hexText(again)) it decodes to \(decoded)")
        case .commandResponse(let response):
            guard let again = try? codec.encodeCommandResponse(command: response.command, serviceId: response.serviceId,
                                                               mid: response.mid, errcode: response.errcode ?? 0,
                                                               paras: response.paras) else { return }
            let decoded = Result { () throws(DecodeError) in try codec.decode(again) }
            FuzzCheck.require(decoded == .success(.commandResponse(response)),
                              "\(codec.productId): \(hexText(bytes)) decodes to \(response); re-encoded as \(hexText(again)) it decodes to \(decoded)")
        case .rawData:
            checkRawData(bytes, disposition)
        case .rejected(let error):
            FuzzCheck.require(error.offset >= 0 && error.offset <= max(bytes.count, ProductCodec.maximumFrameBytes),
                              "\(codec.productId): error offset \(error.offset) outside a frame of \(bytes.count) bytes: \(error)")
            FuzzCheck.require(!"\(error)".isEmpty, "\(codec.productId): an error without a description")
        }
    }

    /// The device side: a command decoded and encoded again reads the same.
    static func downlink(_ bytes: [UInt8], _ codec: ProductCodec) {
        guard case .command(let command)? = try? codec.decodeDownlink(bytes) else { return }
        guard let again = try? codec.encode(command: command.command, serviceId: command.serviceId, paras: command.paras,
                                            mid: command.mid ?? 0) else { return }
        let decoded = Result { () throws(DecodeError) in try codec.decodeDownlink(again) }
        FuzzCheck.require(decoded == .success(.command(command)),
                          "\(codec.productId): \(hexText(bytes)) decodes to \(command); re-encoded as \(hexText(again)) it decodes to \(decoded)")
    }

    /// Bytes no codec takes go to the cloud as RawData: Base64 of exactly those bytes.
    static func checkRawData(_ bytes: [UInt8], _ disposition: UplinkDisposition) {
        guard case .rawData(let report) = disposition else { return }
        let text = report.properties[RawData.propertyName]?.stringValue
        FuzzCheck.require(report.serviceId == RawData.serviceId && text.flatMap { Data(base64Encoded: $0) } == Data(bytes),
                          "RawData of \(hexText(bytes)) is \(report)")
    }
}
