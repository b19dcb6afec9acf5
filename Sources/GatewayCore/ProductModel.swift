import Foundation

/// A product model ("profile"): the services a kind of device offers, with their properties
/// and commands, as the cloud knows them. Read from `products/*.toml`; the `[codec]` table of
/// the same file belongs to the DeviceCodec module.
public struct ProductModel: Sendable, Equatable {
    public enum ProtocolType: String, Sendable, CaseIterable {
        case lwm2m = "LwM2M"
        case coap = "CoAP"
        case modbus = "Modbus"
        case mqtt = "MQTT"
        case other = "Other"
    }

    public enum DataFormat: String, Sendable, CaseIterable {
        case binary
        case json
    }

    public var id: String
    public var manufacturer: String
    public var model: String
    public var deviceType: String
    public var protocolType: ProtocolType
    public var dataFormat: DataFormat
    public var services: [Service]
    /// `[upgrade]`: how devices of the product are upgraded; nil when they are not (ProductUpgrade.swift).
    public var upgrade: Upgrade?
    /// Where it was read from, for messages that point at it.
    public var file: String

    public init(id: String, manufacturer: String, model: String, deviceType: String, protocolType: ProtocolType,
                dataFormat: DataFormat, services: [Service], upgrade: Upgrade? = nil, file: String = "") {
        self.id = id
        self.manufacturer = manufacturer
        self.model = model
        self.deviceType = deviceType
        self.protocolType = protocolType
        self.dataFormat = dataFormat
        self.services = services
        self.upgrade = upgrade
        self.file = file
    }

    public func service(_ id: String) -> Service? { services.first { $0.id == id } }

    public func property(service: String, name: String) -> Property? {
        self.service(service)?.properties.first { $0.name == name }
    }

    public func command(service: String, name: String) -> Command? {
        self.service(service)?.commands.first { $0.name == name }
    }

    public struct Service: Sendable, Equatable {
        public var id: String
        public var properties: [Property]
        public var commands: [Command]

        public init(id: String, properties: [Property], commands: [Command]) {
            self.id = id
            self.properties = properties
            self.commands = commands
        }
    }

    /// The platform's data types (spec: lwm2m-coap §7), plus boolean which the product
    /// model editor offers.
    public enum DataType: String, Sendable, CaseIterable {
        case int
        case decimal
        case string
        case dateTime = "DateTime"
        case jsonObject
        case boolean
    }

    public enum Access: String, Sendable, CaseIterable {
        case read = "R"
        case readWrite = "RW"
        case write = "W"

        public var isWritable: Bool { self != .read }
    }

    /// A property, or a command parameter / response field (same shape).
    public struct Property: Sendable, Equatable {
        public var name: String
        public var type: DataType
        public var min: Double?
        public var max: Double?
        public var maxLength: Int?
        public var unit: String?
        public var enumValues: [String]?
        public var access: Access
        public var required: Bool

        public init(name: String, type: DataType, min: Double? = nil, max: Double? = nil, maxLength: Int? = nil,
                    unit: String? = nil, enumValues: [String]? = nil, access: Access = .read, required: Bool = false) {
            self.name = name
            self.type = type
            self.min = min
            self.max = max
            self.maxLength = maxLength
            self.unit = unit
            self.enumValues = enumValues
            self.access = access
            self.required = required
        }

        /// Checks a value from the cloud against the model; returns a reason when it does not fit.
        public func violation(of value: JSONValue) -> String? {
            switch type {
            case .int:
                if case .uint(let u) = value { return rangeViolation(Double(u)) }
                guard let v = value.intValue else { return "\(name) must be an integer, got \(value.typeName)" }
                return rangeViolation(Double(v))
            case .decimal:
                guard let v = value.doubleValue else { return "\(name) must be a number, got \(value.typeName)" }
                return rangeViolation(v)
            case .boolean:
                if value.boolValue != nil || value.intValue.map({ $0 == 0 || $0 == 1 }) == true { return nil }
                return "\(name) must be a boolean, got \(value.typeName)"
            case .string, .dateTime:
                guard let s = value.stringValue else { return "\(name) must be a string, got \(value.typeName)" }
                if let maxLength, s.utf8.count > maxLength { return "\(name) is longer than \(maxLength) bytes" }
                if let enumValues, !enumValues.contains(s) {
                    return "\(name) must be one of \(enumValues.joined(separator: ", "))"
                }
                return nil
            case .jsonObject:
                return nil
            }
        }

        private func rangeViolation(_ v: Double) -> String? {
            if let min, v < min { return "\(name)=\(formatNumber(v)) is below its minimum \(formatNumber(min))" }
            if let max, v > max { return "\(name)=\(formatNumber(v)) is above its maximum \(formatNumber(max))" }
            return nil
        }
    }

    public struct Command: Sendable, Equatable {
        public var name: String
        public var paras: [Property]
        public var responses: [Property]

        public init(name: String, paras: [Property], responses: [Property]) {
            self.name = name
            self.paras = paras
            self.responses = responses
        }
    }
}

func formatNumber(_ v: Double) -> String {
    v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v)
}

extension ConfigReader {
    /// The product model a device file names at `key`; nil, with the problem reported at that
    /// key, when no product of that id was loaded.
    public func productModel(_ id: String?, key: String = "product_id", in products: [String: ProductModel]) -> ProductModel? {
        guard let id else { return nil }
        if let product = products[id] { return product }
        let known = products.keys.sorted().joined(separator: ", ")
        report(key, "no product model \"\(id)\" was loaded",
               fix: known.isEmpty ? "add products/\(id).toml" : "use one of \(known), or add products/\(id).toml")
        return nil
    }
}
