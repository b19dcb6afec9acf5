import GatewayCore

// Reading one field of a codec message: its keys, its role, its default value.

/// Field names the platform refuses (its codecs are generated as Java): spec lwm2m-coap §6.3.
let javaKeywords: Set<String> = [
    "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue",
    "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "goto", "if",
    "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package", "private",
    "protected", "public", "return", "short", "static", "strictfp", "super", "switch", "synchronized", "this",
    "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false", "null", "var", "type",
]

extension CodecParser {
    func field(_ r: ConfigReader, context: MessageContext) -> CodecField? {
        let name = r.nonEmptyString("name")
        let type = r.choice("type", as: CodecFieldType.self)
        let length = r.int("length", required: false, range: 1...Int64(ProductCodec.maximumFrameBytes)).map { Int($0) }
        let lengthField = r.nonEmptyString("length_field", required: false)
        let defaultText = r.string("default", required: false)
        let decimals = r.int("decimals", required: false, range: 0...9).map { Int($0) }
        let mapped = r.bool("map", default: true)
        let serviceKey = context.kind == .report ? r.nonEmptyString("service", required: false) : nil
        let targetKey: String? = switch context.kind {
        case .report: "property"
        case .command: "para"
        case .commandResponse: "response"
        case .reportResponse: nil
        }
        let target = targetKey.flatMap { r.nonEmptyString($0, required: false) }
        guard let name, let type else { return nil }
        let problems = r.diagnostics.all.count

        if javaKeywords.contains(name) {
            r.report("name", "\"\(name)\" is a Java keyword, which the platform's codecs refuse as a field name",
                     fix: "rename the field (for example \(name)Value)")
        }
        // Length keys by type.
        if let size = type.scalarSize {
            if let length, length != size {
                r.report("length", "\(type.rawValue) is always \(size) byte(s)", fix: "remove length")
            }
            if lengthField != nil { r.report("length_field", "only varstring and variant take a length_field", fix: "remove it") }
        } else if type.hasLengthField {
            if lengthField == nil {
                r.report("type", "a \(type.rawValue) needs length_field = \"…\", the earlier field holding its byte count")
            }
        } else {
            if length == nil { r.report("type", "a \(type.rawValue) needs length = N, its fixed byte count") }
            if lengthField != nil { r.report("length_field", "only varstring and variant take a length_field", fix: "remove it") }
        }

        // Role: from the name for the platform's special fields, else from the mapping.
        var role: CodecField.Role
        switch name {
        case "messageId":
            role = .messageId
            if !type.isInteger { r.report("type", "messageId must be an integer type (the platform requires int)", fix: "use int8u") }
        case "mid" where context.kind == .command || context.kind == .commandResponse:
            role = .mid
            if type != .int16u { r.report("type", "mid must be int16u: the gateway's mid is a 16-bit cycling number", fix: "use type = \"int16u\"") }
        case "mid":
            role = .constant
            r.report("name", "mid belongs only in commands and command responses", fix: "rename the field")
        case "errcode" where context.kind == .commandResponse:
            role = .errcode
            if !type.isInteger { r.report("type", "errcode must be an integer type (0 = success)", fix: "use int8u") }
        default:
            if !mapped || context.kind == .reportResponse || context.lengthNames.contains(name) {
                role = .constant
            } else {
                role = resolveValue(r, name: name, target: target, targetKey: targetKey, serviceKey: serviceKey, context: context)
            }
        }
        switch role {
        case .messageId, .mid:
            if defaultText != nil { r.report("default", "\(name) takes its value from the message, not from a default", fix: "remove default") }
            fallthrough
        case .errcode:
            if let targetKey, target != nil { r.report(targetKey, "\(name) is a special field and maps nothing", fix: "remove \(targetKey)") }
            if serviceKey != nil { r.report("service", "\(name) is a special field and maps nothing", fix: "remove service") }
        default: break
        }
        if !mapped, let targetKey, target != nil { r.report(targetKey, "a field with map = false maps nothing", fix: "remove \(targetKey) or map") }

        // Scaling.
        var scale = decimals ?? 0
        if decimals != nil {
            if case .value(_, _, let property) = role, property.type == .decimal, type.isInteger {} else {
                r.report("decimals", "decimals applies to integer fields mapped to a decimal property", fix: "remove it")
                scale = 0
            }
        }

        // Default value: hex, sized to the field.
        var defaultBytes: [UInt8]?
        if let defaultText {
            defaultBytes = parseDefault(r, defaultText, type: type, length: length)
        }
        let maximum: Int? = type.hasLengthField ? min(length ?? ProductCodec.maximumFrameBytes, ProductCodec.maximumFrameBytes) : length
        guard r.diagnostics.all.count == problems else { return nil }
        return CodecField(name: name, type: type, length: maximum, lengthField: lengthField, defaultBytes: defaultBytes,
                          decimals: scale, role: role, line: r.table.line)
    }

    func resolveValue(_ r: ConfigReader, name: String, target: String?, targetKey: String?, serviceKey: String?,
                              context: MessageContext) -> CodecField.Role {
        let targetName = target ?? name
        let key = target != nil ? (targetKey ?? "name") : "name"
        let candidates: [ProductModel.Property]
        let service: String
        let what: String
        switch context.kind {
        case .report:
            guard let id = serviceKey ?? context.serviceId else {
                r.report("name", "field \"\(name)\" maps to no service",
                         fix: "add service = \"…\" to the message or the field, or map = false for framing")
                return .constant
            }
            guard let found = product.service(id) else { reportUnknownService(r, "service", id); return .constant }
            service = id
            candidates = found.properties
            what = "service \"\(id)\" has no property"
        case .command, .commandResponse:
            guard let command = context.command, let id = context.serviceId else { return .constant }
            service = id
            candidates = context.kind == .command ? command.paras : command.responses
            what = context.kind == .command ? "command \"\(command.name)\" has no parameter" : "command \"\(command.name)\" has no response field"
        case .reportResponse:
            return .constant
        }
        guard let property = candidates.first(where: { $0.name == targetName }) else {
            let known = candidates.map(\.name).joined(separator: ", ")
            r.report(key, "\(what) \"\(targetName)\"",
                     fix: known.isEmpty ? "declare it in the product model, or map = false for framing"
                                        : "use one of: \(known); or map = false for framing")
            return .constant
        }
        if let type = CodecFieldType(rawValue: r.string("type", required: false) ?? ""), !type.canMap(to: property.type) {
            let fitting = CodecFieldType.allCases.filter { $0.canMap(to: property.type) }.map(\.rawValue)
            r.report("type", "a \(type.rawValue) field cannot carry \(property.type.rawValue) property \"\(property.name)\"",
                     fix: "for \(property.type.rawValue) use one of: \(fitting.joined(separator: ", "))")
        }
        return .value(service: service, name: property.name, property: property)
    }

    /// `default` is hex (the platform refuses anything else): "0x1F", "1f", "0A0B0C".
    func parseDefault(_ r: ConfigReader, _ text: String, type: CodecFieldType, length: Int?) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else {
            r.report("default", "default \"\(text)\" is not hexadecimal", fix: "write it in hex, for example \"0x0A\"")
            return nil
        }
        if let size = type.scalarSize {
            let significant = digits.drop { $0 == "0" }
            guard significant.count <= size * 2, let value = UInt64(significant.isEmpty ? "0" : String(significant), radix: 16) else {
                r.report("default", "default \(text) does not fit \(type.rawValue) (\(size) byte(s))")
                return nil
            }
            return BigEndian.bytes(value, size: size)
        }
        guard digits.count % 2 == 0 else {
            r.report("default", "default \"\(text)\" has an odd number of hex digits", fix: "write whole bytes, two digits each")
            return nil
        }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
            index = next
        }
        let maximum = length ?? ProductCodec.maximumFrameBytes
        if bytes.count > maximum {
            r.report("default", "default has \(bytes.count) bytes, more than the field's \(maximum)")
            return nil
        }
        if type == .string || type == .array { bytes += [UInt8](repeating: 0, count: maximum - bytes.count) }
        if type.isText, let bad = bytes.first(where: { $0 > 0x7F }) {
            r.report("default", "default holds byte 0x\(String(bad, radix: 16)), which is not ASCII")
            return nil
        }
        return bytes
    }
}
