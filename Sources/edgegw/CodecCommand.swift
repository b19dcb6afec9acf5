import ArgumentParser
import Config
import DeviceCodec
import Foundation
import GatewayCore

/// `edgegw codec`: lets a technician check a device's bytes against a product file on site.
struct CodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Decode a device's bytes or encode a command with a product file's [codec].",
        subcommands: [Decode.self, Encode.self])

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode hex bytes: what a device sent (uplink) or what it receives (downlink).")

        @Option(name: .long, help: "The product file (products/*.toml).")
        var product: String

        @Flag(name: .long, help: "Decode as a downlink frame (a command or report response), as the device reads it.")
        var downlink = false

        @Argument(help: "The frame in hex, in one or more parts; spaces, colons and a 0x prefix are ignored.")
        var hex: [String]

        func run() throws {
            let codec = try CodecCommand.load(product)
            let text = hex.joined()
            guard let bytes = CodecHex.bytes(text), !bytes.isEmpty else {
                throw CodecCommand.fail("\"\(text)\" is not hex: use two digits per byte, like 01 04 D2")
            }
            do {
                let output = try downlink ? CodecCommand.describe(codec.decodeDownlink(bytes))
                                          : CodecCommand.describe(codec.decode(bytes), codec: codec)
                print(JSONText.serialize(output))
            } catch {
                var text = "cannot decode \(bytes.count) byte(s): \(error)"
                if error.matchesNoMessage, !downlink {
                    text += "\nthe gateway forwards such bytes to the cloud as "
                        + JSONText.serialize(CodecCommand.describe(RawData.report(bytes)))
                }
                throw CodecCommand.fail(text)
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode a command the way the gateway sends it.",
            discussion: """
                Array and variant parameters are bytes given as Base64, by one rule (docs/codec.md): \
                the standard alphabet A-Z a-z 0-9 + / and nothing else (no spaces, no URL-safe - _); \
                padding is optional, but = must complete the last group of four when given \
                ("AQ" and "AQ==" are the byte 01; "AQ=" and "=====" are refused); unused bits of the \
                last character must be 0.
                """)

        @Option(name: .long, help: "The product file (products/*.toml).")
        var product: String

        @Option(name: .long, help: "The command's name in the product model.")
        var command: String

        @Option(name: .long, help: "The command's service, when the name is in several services.")
        var service: String?

        @Option(name: .long, help: "The command's parameters as a JSON object, e.g. '{\"interval\":3600}'; bytes as Base64 (below).")
        var paras: String = "{}"

        @Option(name: .long, help: "The mid to write (0…65535); the gateway numbers commands itself.")
        var mid: Int = 1

        func run() throws {
            let codec = try CodecCommand.load(product)
            guard let mid = UInt16(exactly: mid) else { throw CodecCommand.fail("--mid \(mid) is not in 0…65535") }
            guard let data = paras.data(using: .utf8),
                  let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
                throw CodecCommand.fail("--paras is not valid JSON: \(paras)")
            }
            guard let object = value.objectValue else {
                throw CodecCommand.fail("--paras must be a JSON object, like '{\"interval\":3600}', not \(value.typeName)")
            }
            do {
                let bytes = try codec.encode(command: command, serviceId: service, paras: object, mid: mid)
                var result = JSONObject()
                result["command"] = .string(command)
                result["mid"] = .int(Int64(mid))
                result["expects_response"] = .bool(codec.expectsResponse(command: command, serviceId: service))
                result["length"] = .int(Int64(bytes.count))
                result["hex"] = .string(CodecHex.string(bytes))
                print(JSONText.serialize(.object(result)))
            } catch {
                throw CodecCommand.fail("cannot encode: \(error)")
            }
        }
    }

    // MARK: - Shared

    /// Loads a product file and its codec; every problem is printed with file:line.
    static func load(_ path: String) throws -> ProductCodec {
        let document: ConfigDocument
        switch TOMLDocumentParser.load(path: path) {
        case .success(let loaded): document = loaded
        case .failure(let diagnostic): throw fail(diagnostic.description)
        }
        let diagnostics = ConfigDiagnostics()
        let reader = ConfigReader(document: document, diagnostics: diagnostics)
        let product = ProductModel.parse(reader)
        let codec = product.flatMap { ProductCodec.parse(reader: reader, product: $0) }
        if product == nil { reader.markKnown("codec") }
        reader.finish()
        guard diagnostics.isEmpty else { throw fail(diagnostics.all.map(\.description).joined(separator: "\n")) }
        guard let codec else { throw fail("\(path): the product file declares no [codec]") }
        return codec
    }

    /// Prints the message to stderr; the command then exits with status 1.
    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(1)
    }

    static func describe(_ uplink: DecodedUplink, codec: ProductCodec) -> JSONValue {
        var out = JSONObject()
        switch uplink {
        case .report(let report):
            out["message"] = .string(report.message)
            out["kind"] = "report"
            out["services"] = .array(report.services.map(describe))
            if let response = codec.encodeReportResponse(to: report) {
                out["report_response"] = .string(CodecHex.string(response))
            }
        case .commandResponse(let response):
            out["message"] = .string(response.message)
            out["kind"] = "command_response"
            out["service_id"] = .string(response.serviceId)
            out["command_name"] = .string(response.command)
            out["mid"] = .int(Int64(response.mid))
            if let errcode = response.errcode { out["errcode"] = .int(errcode) }
            out["status"] = .string(response.succeeded ? "SUCCESSFUL" : "FAILED")
            out["paras"] = .object(response.paras)
        }
        return .object(out)
    }

    static func describe(_ downlink: DecodedDownlink) -> JSONValue {
        var out = JSONObject()
        switch downlink {
        case .reportResponse(let message):
            out["message"] = .string(message)
            out["kind"] = "report_response"
        case .command(let command):
            out["message"] = .string(command.message)
            out["kind"] = "command"
            out["service_id"] = .string(command.serviceId)
            out["command_name"] = .string(command.command)
            if let mid = command.mid { out["mid"] = .int(Int64(mid)) }
            out["paras"] = .object(command.paras)
        }
        return .object(out)
    }

    static func describe(_ report: ServiceReport) -> JSONValue {
        .object(["service_id": .string(report.serviceId), "properties": .object(report.properties)])
    }
}

/// Hex as technicians type it and read it.
enum CodecHex {
    static func bytes(_ text: String) -> [UInt8]? {
        var digits = text.filter { !" :\t\n-".contains($0) }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits.removeFirst(2) }
        guard digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02X", $0) }.joined()
    }
}
