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

/// Reads the `[codec]` messages and fields into the codec model (this file and
/// ProductCodecFieldParser.swift), then validates the model: within one message
/// (ProductCodecMessageChecks.swift) and across messages (ProductCodecCrossChecks.swift).
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

    func resolveCommand(_ r: ConfigReader, serviceId: String?) -> (String?, ProductModel.Command?) {
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

    func reportUnknownService(_ r: ConfigReader, _ key: String, _ id: String) {
        r.report(key, "product \"\(product.id)\" has no service \"\(id)\"",
                 fix: "use one of: \(product.services.map(\.id).joined(separator: ", "))")
    }

    struct MessageContext {
        var kind: CodecMessage.Kind
        var serviceId: String?
        var command: ProductModel.Command?
        var lengthNames: Set<String>
    }
}
