import Config
import DeviceCodec
import Foundation
import GatewayCore
import LwM2M

/// The LwM2M server's view of the product codecs: device bytes to properties and command
/// results, commands to device bytes. Products without a codec report `RawData`, as the
/// platform does.
public struct ProductCodecs: UplinkPayloadHandler, DownlinkEncoder {
    let codecs: [String: ProductCodec]

    init(codecs: [String: ProductCodec]) { self.codecs = codecs }

    /// The codecs of the product files in a directory (for load tools), with the problems found.
    public static func load(productsDirectory: String) -> (codecs: ProductCodecs, problems: [String]) {
        let diagnostics = ConfigDiagnostics()
        let (_, codecs) = ConfigLoader.loadProducts(directory: productsDirectory, diagnostics: diagnostics)
        return (ProductCodecs(codecs: codecs), diagnostics.all.map { "\($0)" })
    }

    public func decodeUplink(nodeId: String, productId: String, payload: [UInt8]) -> UplinkDecoding {
        let codec = codecs[productId]
        switch ProductCodec.classify(payload, codec: codec) {
        case .report(let report):
            return .report(report.services, response: codec?.encodeReportResponse(to: report))
        case .commandResponse(let response):
            return .commandResponse(mid: response.mid, success: (response.errcode ?? 0) == 0, paras: response.paras)
        case .rawData(let raw):
            return .report([raw], response: nil)
        case .rejected(let error):
            return .undecodable("\(error)")
        }
    }

    struct NoCodec: Error, CustomStringConvertible {
        let productId: String
        var description: String { "product \(productId) declares no codec: commands cannot be encoded" }
    }

    public func expectsResponse(_ command: ChildCommand, productId: String) -> Bool {
        codecs[productId]?.expectsResponse(command: command.commandName, serviceId: command.serviceId) ?? true
    }

    public func encodeCommand(_ command: ChildCommand, productId: String, mid: UInt16) throws -> [UInt8] {
        guard let codec = codecs[productId] else { throw NoCodec(productId: productId) }
        return try codec.encode(command: command.commandName, serviceId: command.serviceId, paras: command.paras, mid: mid)
    }
}
