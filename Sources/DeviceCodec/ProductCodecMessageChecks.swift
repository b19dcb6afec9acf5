import GatewayCore

// Checks within one message, once all its fields are read: length fields, messageId and mid,
// required command parameters, the frame size.

extension CodecParser {
    func checkLengthFields(_ parsed: inout ParsedMessage) {
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

    func checkMessage(_ parsed: ParsedMessage, command: ProductModel.Command?) {
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
}
