import GatewayCore

// Checks across the messages of a codec: messageId place and values per direction, command and
// response pairs, unique names.

extension CodecParser {
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
