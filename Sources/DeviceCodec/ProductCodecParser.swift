import GatewayCore

extension ProductCodec {
    /// Reads and validates the `[codec]` table of a product file against its product model.
    ///
    /// Returns nil when the file declares no codec (no new diagnostics), or when anything is
    /// wrong (every problem is in `reader.diagnostics`, with file and line). Marks `codec`
    /// known on `reader`, so call it before `reader.finish()`.
    public static func parse(reader: ConfigReader, product: ProductModel) -> ProductCodec? {
        guard reader.has("codec") else { reader.markKnown("codec"); return nil }
        let before = reader.diagnostics.all.count
        guard let table = reader.table("codec") else { return nil }
        var parser = CodecParser(product: product)
        let uplink = table.tables("uplink").compactMap { parser.message($0, direction: .uplink) }
        let downlink = table.tables("downlink").compactMap { parser.message($0, direction: .downlink) }
        table.finish()
        if uplink.isEmpty && downlink.isEmpty {
            table.report(nil, "the codec declares no message",
                         fix: "add [[codec.uplink]] and/or [[codec.downlink]] messages, or remove [codec]")
        }
        parser.checkDirection(uplink, .uplink)
        parser.checkDirection(downlink, .downlink)
        parser.checkPairs(uplink: uplink, downlink: downlink)
        parser.checkNames(uplink + downlink)
        guard reader.diagnostics.all.count == before, (uplink + downlink).allSatisfy(\.complete) else { return nil }
        return ProductCodec(productId: product.id, uplink: uplink.map(\.message), downlink: downlink.map(\.message))
    }
}

/// A parsed message with the readers that point at its lines.
struct ParsedMessage {
    var message: CodecMessage
    var reader: ConfigReader
    var fieldReaders: [ConfigReader]
    /// False when a field could not be read: the message still takes part in the checks that
    /// need only its header (names, message_id values), so one pass finds every problem.
    var complete = true
}

/// Field names the platform refuses (its codecs are generated as Java): spec lwm2m-coap §6.3.
let javaKeywords: Set<String> = [
    "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue",
    "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "goto", "if",
    "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package", "private",
    "protected", "public", "return", "short", "static", "strictfp", "super", "switch", "synchronized", "this",
    "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false", "null", "var", "type",
]

struct CodecParser {
    let product: ProductModel

    init(product: ProductModel) { self.product = product }

    // MARK: - One message

    mutating func message(_ r: ConfigReader, direction: CodecMessage.Direction) -> ParsedMessage? {
        let name = r.nonEmptyString("name")
        let kind = r.choice("kind", as: CodecMessage.Kind.self)
        let messageId = r.int("message_id", required: false)
        if let kind, kind.direction != direction {
            let fix = CodecMessage.Kind.allCases.filter { $0.direction == direction }.map { "\"\($0.rawValue)\"" }
            r.report("kind", "\(kind.rawValue) is a \(kind.direction.rawValue) message, not \(direction.rawValue)",
                     fix: "move it to [[codec.\(kind.direction.rawValue)]], or use \(fix.joined(separator: " or "))")
        }
        var serviceId = r.nonEmptyString("service", required: false)
        var command: ProductModel.Command?
        var respondsTo: [String] = []
        switch kind {
        case .command, .commandResponse:
            (serviceId, command) = resolveCommand(r, serviceId: serviceId)
        case .reportResponse:
            respondsTo = r.stringArray("responds_to", required: false) ?? []
            if r.has("service") { r.report("service", "a report response maps no service", fix: "remove it") }
        case .report, nil:
            if let serviceId, product.service(serviceId) == nil { reportUnknownService(r, "service", serviceId) }
        }
        let fieldReaders = r.tables("fields", required: true)
        if r.has("fields") && fieldReaders.isEmpty {
            r.report("fields", "a message needs at least one field")
        }
        guard let name, let kind else {
            // Fields of a message whose kind is unknown cannot be checked; their keys are not
            // flagged either, so the technician sees the one real problem.
            r.finish()
            return nil
        }
        // Fields that hold another field's length are computed, never mapped: know them up front.
        let lengthNames = Set(fieldReaders.compactMap { reader -> String? in
            if case .string(let name)? = reader.table["length_field"]?.value { return name }
            return nil
        })
        let context = MessageContext(kind: kind, serviceId: serviceId, command: command, lengthNames: lengthNames)
        var fields: [CodecField] = []
        for fieldReader in fieldReaders {
            if let field = self.field(fieldReader, context: context) { fields.append(field) }
            fieldReader.finish()
        }
        r.finish()
        let message = CodecMessage(name: name, kind: kind, messageId: messageId, serviceId: serviceId,
                                   command: command?.name, respondsTo: respondsTo, fields: fields, line: r.table.line)
        guard fields.count == fieldReaders.count else {
            return ParsedMessage(message: message, reader: r, fieldReaders: [], complete: false)
        }
        var parsed = ParsedMessage(message: message, reader: r, fieldReaders: fieldReaders)
        checkLengthFields(&parsed)
        checkMessage(parsed, command: command)
        return parsed
    }

    private func resolveCommand(_ r: ConfigReader, serviceId: String?) -> (String?, ProductModel.Command?) {
        guard let name = r.nonEmptyString("command") else { return (serviceId, nil) }
        if let serviceId {
            guard let service = product.service(serviceId) else { reportUnknownService(r, "service", serviceId); return (serviceId, nil) }
            guard let command = service.commands.first(where: { $0.name == name }) else {
                let known = service.commands.map(\.name).joined(separator: ", ")
                r.report("command", "service \"\(serviceId)\" has no command \"\(name)\"",
                         fix: known.isEmpty ? "declare it under [[services.commands]]" : "use one of: \(known)")
                return (serviceId, nil)
            }
            return (serviceId, command)
        }
        let owners = product.services.filter { $0.commands.contains { $0.name == name } }
        guard let owner = owners.first else {
            r.report("command", "no service of product \"\(product.id)\" has a command \"\(name)\"",
                     fix: "declare it under [[services.commands]], or fix the name")
            return (nil, nil)
        }
        if owners.count > 1 {
            r.report("command", "command \"\(name)\" exists in services \(owners.map(\.id).joined(separator: ", "))",
                     fix: "add service = \"…\" to say which")
            return (nil, nil)
        }
        return (owner.id, owner.commands.first { $0.name == name })
    }

    private func reportUnknownService(_ r: ConfigReader, _ key: String, _ id: String) {
        r.report(key, "product \"\(product.id)\" has no service \"\(id)\"",
                 fix: "use one of: \(product.services.map(\.id).joined(separator: ", "))")
    }

    struct MessageContext {
        var kind: CodecMessage.Kind
        var serviceId: String?
        var command: ProductModel.Command?
        var lengthNames: Set<String>
    }

    // MARK: - One field

    private func field(_ r: ConfigReader, context: MessageContext) -> CodecField? {
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

    private func resolveValue(_ r: ConfigReader, name: String, target: String?, targetKey: String?, serviceKey: String?,
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
    private func parseDefault(_ r: ConfigReader, _ text: String, type: CodecFieldType, length: Int?) -> [UInt8]? {
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

    // MARK: - Within one message

    private func checkLengthFields(_ parsed: inout ParsedMessage) {
        var usedLengthFields: [String: String] = [:]
        var names: [String: Int] = [:]
        for (index, field) in parsed.message.fields.enumerated() {
            let r = parsed.fieldReaders[index]
            if let first = names[field.name] {
                r.report("name", "field \"\(field.name)\" is declared twice in message \"\(parsed.message.name)\"",
                         fix: "rename one (the other is at line \(parsed.fieldReaders[first].table.line.map(String.init) ?? "?"))")
            } else {
                names[field.name] = index
            }
            guard let lengthName = field.lengthField else { continue }
            guard let holderIndex = parsed.message.fields[..<index].firstIndex(where: { $0.name == lengthName }) else {
                r.report("length_field", "\"\(lengthName)\" is not an earlier field of this message",
                         fix: "declare the length field before \"\(field.name)\"")
                continue
            }
            let holder = parsed.message.fields[holderIndex]
            let holderReader = parsed.fieldReaders[holderIndex]
            guard holder.type.isInteger, !holder.type.isSigned, let range = holder.type.integerRange else {
                r.report("length_field", "length field \"\(lengthName)\" must be an unsigned integer (int8u…int32u)")
                continue
            }
            if let other = usedLengthFields[lengthName] {
                r.report("length_field", "\"\(lengthName)\" already holds the length of \"\(other)\"", fix: "give each its own length field")
                continue
            }
            usedLengthFields[lengthName] = field.name
            if let length = field.length, Int64(length) > range.upperBound {
                r.report("length", "length \(length) cannot be held by \(holder.type.rawValue) field \"\(lengthName)\" (max \(range.upperBound))")
            }
            parsed.message.fields[index].length = min(field.length ?? Int(range.upperBound), Int(min(range.upperBound, Int64(ProductCodec.maximumFrameBytes))))
            switch holder.role {
            case .constant, .value:
                if holderReader.has("property") || holderReader.has("para") || holderReader.has("response") || holderReader.has("default") {
                    holderReader.report("name", "\"\(lengthName)\" is the length of \"\(field.name)\"; it is computed, not mapped",
                                        fix: "remove its property/para/response/default")
                }
                parsed.message.fields[holderIndex].role = .length(of: field.name)
            default:
                r.report("length_field", "\"\(lengthName)\" is a \(holder.name) field and cannot hold a length")
            }
        }
    }

    private func checkMessage(_ parsed: ParsedMessage, command: ProductModel.Command?) {
        let message = parsed.message
        let r = parsed.reader
        let idIndex = message.index(of: .messageId)
        if let idIndex {
            let field = message.fields[idIndex]
            if let id = message.messageId {
                if let range = field.type.integerRange, !range.contains(id) {
                    r.report("message_id", "message_id \(id) does not fit the \(field.type.rawValue) messageId field")
                }
            } else {
                r.report(nil, "message \"\(message.name)\" has a messageId field but no message_id value",
                         fix: "add message_id = 0x01 (its value on the wire)")
            }
            if message.fixedOffset(ofField: idIndex) == nil {
                parsed.fieldReaders[idIndex].report("name", "messageId must come before any varstring/variant field",
                                                    fix: "move it up, so its position is the same in every frame")
            }
        } else if message.messageId != nil {
            r.report("message_id", "message_id is set but the message has no messageId field",
                     fix: "add a field named messageId where the value sits on the wire")
        }
        if message.kind == .commandResponse || message.kind == .command {
            if message.kind == .commandResponse, message.index(of: .mid) == nil {
                r.report(nil, "command response \"\(message.name)\" has no mid field",
                         fix: "add { name = \"mid\", type = \"int16u\" } at the same place as in the command")
            }
            if message.kind == .command, let command {
                let mapped = Set(message.fields.compactMap { field -> String? in
                    if case .value(_, let name, _) = field.role { return name }
                    return nil
                })
                for para in command.paras where para.required && !mapped.contains(para.name) {
                    r.report("command", "required parameter \"\(para.name)\" of command \"\(command.name)\" has no field",
                             fix: "add a field for it")
                }
            }
        }
        var fixed = 0
        for field in message.fields { fixed += field.fixedSize ?? 0 }
        if fixed > ProductCodec.maximumFrameBytes {
            r.report(nil, "message \"\(message.name)\" is \(fixed) bytes, above the \(ProductCodec.maximumFrameBytes)-byte frame limit")
        }
    }

    // MARK: - Across messages

    /// messageId: present and at the same place whenever a direction has more than one message
    /// (command responses count as uplink, report responses as downlink); values unique.
    func checkDirection(_ messages: [ParsedMessage], _ direction: CodecMessage.Direction) {
        let counted = direction == .uplink ? "reports and command responses" : "commands and report responses"
        if messages.count > 1 {
            for parsed in messages where parsed.complete && parsed.message.index(of: .messageId) == nil {
                parsed.reader.report(nil, "message \"\(parsed.message.name)\" has no messageId field, but the \(direction.rawValue) has \(messages.count) messages (\(counted) count together)",
                                     fix: "add { name = \"messageId\", type = \"int8u\" } at the same place in every \(direction.rawValue) message")
            }
        }
        var seen: [Int64: String] = [:]
        for parsed in messages {
            guard let id = parsed.message.messageId else { continue }
            if let other = seen[id] {
                parsed.reader.report("message_id", "message_id \(id) is also used by \"\(other)\"",
                                     fix: "give each \(direction.rawValue) message its own message_id")
            } else {
                seen[id] = parsed.message.name
            }
        }
        let withId = messages.filter { $0.complete && $0.message.index(of: .messageId) != nil }
        guard let reference = withId.first, let referenceIndex = reference.message.index(of: .messageId) else { return }
        let referenceField = reference.message.fields[referenceIndex]
        let referenceOffset = reference.message.fixedOffset(ofField: referenceIndex)
        for parsed in withId {
            guard let index = parsed.message.index(of: .messageId) else { continue }
            let field = parsed.message.fields[index]
            let offset = parsed.message.fixedOffset(ofField: index)
            if index != referenceIndex || offset != referenceOffset || field.type != referenceField.type {
                parsed.fieldReaders[index].report("name",
                    "messageId is field #\(index + 1) (\(field.type.rawValue) at byte \(offset.map(String.init) ?? "?")) here, but field #\(referenceIndex + 1) (\(referenceField.type.rawValue) at byte \(referenceOffset.map(String.init) ?? "?")) in \"\(reference.message.name)\"",
                    fix: "put messageId at the same place, with the same type, in every \(direction.rawValue) message")
            }
            if let id = parsed.message.messageId {
                // The first two bytes of a business message must never be FF FE (PCP's marker).
                if offset == 0, let size = field.type.scalarSize, size >= 2 {
                    let bytes = BigEndian.bytes(field.type.bitPattern(of: id), size: size)
                    if bytes[0] == 0xFF && bytes[1] == 0xFE {
                        parsed.reader.report("message_id", "frames would start with FF FE, the marker of PCP upgrade frames",
                                             fix: "use another message_id")
                    }
                }
            }
        }
    }

    /// Every command response has its command, and `mid` is at the same place in both.
    func checkPairs(uplink: [ParsedMessage], downlink: [ParsedMessage]) {
        for kind in [CodecMessage.Kind.command, .commandResponse] {
            var seen: [String: String] = [:]
            for parsed in (uplink + downlink) where parsed.message.kind == kind {
                let key = "\(parsed.message.serviceId ?? "").\(parsed.message.command ?? "")"
                if let other = seen[key] {
                    parsed.reader.report("command", "command \"\(parsed.message.command ?? "")\" already has a \(kind.rawValue) message \"\(other)\"")
                } else {
                    seen[key] = parsed.message.name
                }
            }
        }
        for response in uplink where response.message.kind == .commandResponse && response.complete {
            guard let command = downlink.first(where: {
                $0.message.kind == .command && $0.message.command == response.message.command
                    && $0.message.serviceId == response.message.serviceId
            }) else {
                response.reader.report("command", "no [[codec.downlink]] command message encodes \"\(response.message.command ?? "")\"",
                                       fix: "add the command message, with mid at the same place")
                continue
            }
            guard command.complete, let responseMid = response.message.index(of: .mid) else { continue }
            guard let commandMid = command.message.index(of: .mid) else {
                command.reader.report(nil, "command \"\(command.message.name)\" has a response but no mid field",
                                      fix: "add { name = \"mid\", type = \"int16u\" } at field #\(responseMid + 1), as in \"\(response.message.name)\"")
                continue
            }
            if responseMid != commandMid {
                response.fieldReaders[responseMid].report("name",
                    "mid is field #\(responseMid + 1) here but field #\(commandMid + 1) in command \"\(command.message.name)\"",
                    fix: "put mid at the same place in the command and its response")
            }
        }
        for parsed in downlink where parsed.message.kind == .reportResponse {
            for name in parsed.message.respondsTo where !uplink.contains(where: { $0.message.name == name && $0.message.kind == .report }) {
                parsed.reader.report("responds_to", "\"\(name)\" is not a report message of this codec")
            }
        }
    }

    func checkNames(_ messages: [ParsedMessage]) {
        var seen: [String: ParsedMessage] = [:]
        for parsed in messages {
            if let other = seen[parsed.message.name] {
                parsed.reader.report("name", "message name \"\(parsed.message.name)\" is also used at line \(other.reader.table.line.map(String.init) ?? "?")",
                                     fix: "give each message a unique name")
            } else {
                seen[parsed.message.name] = parsed
            }
        }
    }
}
