import Foundation

extension ProductModel {
    /// Reads `[product]`, `[[services]]` and `[upgrade]` from a product file's root. Keys other parsers own
    /// (the `[codec]` table) must be marked known by the caller before `reader.finish()`.
    /// Returns nil when anything was wrong; every problem is in `reader.diagnostics`.
    public static func parse(_ reader: ConfigReader) -> ProductModel? {
        let before = reader.diagnostics.all.count
        guard let product = reader.table("product", required: true) else { return nil }
        let id = product.nonEmptyString("id")
        let manufacturer = product.string("manufacturer", required: false) ?? ""
        let model = product.string("model", required: false) ?? ""
        let deviceType = product.string("device_type", required: false) ?? ""
        let protocolType = product.choice("protocol", as: ProtocolType.self)
        let dataFormat = product.choice("data_format", as: DataFormat.self, required: false) ?? .json
        if let id, !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
            product.report("id", "product id may hold only letters, digits, `_` and `-`")
        }
        product.finish()

        var services: [Service] = []
        var serviceIds = Set<String>()
        for serviceReader in reader.tables("services", required: true) {
            guard let service = parseService(serviceReader) else { continue }
            if !serviceIds.insert(service.id).inserted {
                serviceReader.report("id", "service \"\(service.id)\" is declared twice", fix: "give each service a unique id")
            }
            services.append(service)
        }
        let upgrade = reader.table("upgrade").flatMap(Upgrade.parse)
        guard reader.diagnostics.all.count == before, let id, let protocolType else { return nil }
        return ProductModel(id: id, manufacturer: manufacturer, model: model, deviceType: deviceType,
                            protocolType: protocolType, dataFormat: dataFormat, services: services, upgrade: upgrade, file: reader.file)
    }

    static func parseService(_ reader: ConfigReader) -> Service? {
        let id = reader.nonEmptyString("id")
        let properties = parseFields(reader.tables("properties"), what: "property")
        var commands: [Command] = []
        var commandNames = Set<String>()
        for commandReader in reader.tables("commands") {
            let name = commandReader.nonEmptyString("name")
            let paras = parseFields(commandReader.tables("paras"), what: "parameter")
            let responses = parseFields(commandReader.tables("responses"), what: "response field")
            commandReader.finish()
            guard let name else { continue }
            if !commandNames.insert(name).inserted {
                commandReader.report("name", "command \"\(name)\" is declared twice in this service")
            }
            commands.append(Command(name: name, paras: paras, responses: responses))
        }
        reader.finish()
        guard let id else { return nil }
        return Service(id: id, properties: properties, commands: commands)
    }

    static func parseFields(_ readers: [ConfigReader], what: String) -> [Property] {
        var result: [Property] = []
        var names = Set<String>()
        for r in readers {
            let name = r.nonEmptyString("name")
            let type = r.choice("type", as: DataType.self)
            let min = r.double("min", required: false)
            let max = r.double("max", required: false)
            let maxLength = r.int("max_length", required: false, range: 0...1_048_576).map { Int($0) }
            let unit = r.string("unit", required: false)
            let enumValues = r.stringArray("enum", required: false)
            let access = r.choice("access", as: Access.self, required: false) ?? .read
            let required = r.bool("required", default: false)
            if let min, let max, min > max { r.report("min", "min \(min) is greater than max \(max)") }
            if let type, (min != nil || max != nil), type != .int, type != .decimal {
                r.report(min != nil ? "min" : "max", "min/max apply to int and decimal only, not \(type.rawValue)")
            }
            r.finish()
            guard let name, let type else { continue }
            if !names.insert(name).inserted { r.report("name", "\(what) \"\(name)\" is declared twice") }
            result.append(Property(name: name, type: type, min: min, max: max, maxLength: maxLength, unit: unit,
                                   enumValues: enumValues, access: access, required: required))
        }
        return result
    }
}
