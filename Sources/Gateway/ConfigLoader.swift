import Config
import DeviceCodec
import Foundation
import GatewayCore
import LwM2M
import Modbus
import Serial
import SerialFraming

/// Everything the daemon runs on, read and validated as a whole.
public struct LoadedConfig: Sendable {
    public var file: String
    public var gateway: GatewayConfig
    public var deviceSecret: Secret
    public var products: [String: ProductModel]
    /// Codecs of the binary products, by product id.
    public var codecs: [String: ProductCodec]
    public var devices: [FieldDeviceEntry]
    /// `[modbus]`: bus defaults.
    public var modbus: ModbusSettings
    public var modbusDevices: [ModbusDeviceConfig]
    /// Framed binary devices on serial lines (`[transport] kind = "serial"`).
    public var serialDevices: [SerialDeviceConfig]
    /// `[lwm2m]` and the listeners, for the LwM2M server.
    var lwm2m: LwM2MConfig
    /// The NB-IoT device list (with their PSKs: never printed).
    public var nbiotDevices: [NBIoTDevice]

    /// A one-screen summary for `edgegw check` and the start-up log (never secrets).
    public var summary: [String] {
        var lines = [
            "gateway \(gateway.gateway.deviceId) -> \(gateway.cloud.tls ? "mqtts" : "mqtt")://\(gateway.cloud.host):\(gateway.cloud.port)"
                + " (sign type \(gateway.cloud.signType.rawValue), keepalive \(gateway.cloud.keepaliveSeconds) s)",
            "state directory \(gateway.store.stateDirectory), outbox bound \(gateway.store.outboxMaxBytes / 1_048_576) MiB",
        ]
        let l = gateway.listeners
        let bootstrapServed = nbiotDevices.contains { !$0.bootstrapPSK.isEmpty }
        let listening = [("coap", l.coap), ("coaps", l.coaps), ("bootstrap", l.bootstrap)]
            .filter { $0.1.enabled }
            .map { "\($0.0) :\($0.1.port)" + ($0.0 == "bootstrap" && !bootstrapServed ? " (not opened: no device has a bootstrapPsk)" : "") }
        let servesLwM2M = !nbiotDevices.isEmpty || lwm2m.server.autoProvisionProductId != nil
        lines.append("listeners: " + (listening.isEmpty ? "none" : listening.joined(separator: ", "))
            + (listening.isEmpty || servesLwM2M ? "" : " (not opened: no NB-IoT devices)"))
        lines.append("\(products.count) product(s)" + (products.isEmpty ? "" : ": " + products.keys.sorted().map {
            codecs[$0] == nil ? $0 : "\($0) (binary codec)"
        }.joined(separator: ", ")))
        let bySource = Dictionary(grouping: devices, by: \.source)
        lines.append("\(devices.count) device(s): \(bySource[.modbus]?.count ?? 0) Modbus, \(bySource[.lwm2m]?.count ?? 0) NB-IoT"
            + (serialDevices.isEmpty ? "" : ", \(serialDevices.count) serial on \(Set(serialDevices.map(\.port.device)).count) port(s)"))
        let bootstrapped = nbiotDevices.filter { $0.secure && !$0.bootstrapPSK.isEmpty }
        if !bootstrapped.isEmpty {
            let waiting = bootstrapped.filter(\.needsGeneratedKey).count
            lines.append("\(bootstrapped.count) NB-IoT device(s) provisioned by bootstrap"
                + (waiting == 0 ? "" : ", \(waiting) without a connection key yet (edgegw provision generate)"))
        }
        lines.append(gateway.upgrade.summary)
        lines += warnings.map { "warning: \($0)" }
        return lines
    }

    /// Warnings the daemon logs at start and `edgegw check` prints (the config is still valid).
    public var warnings: [String] { gateway.upgrade.warnings }
}

/// A field device declared in the config, whatever its kind.
public struct FieldDeviceEntry: Sendable, Equatable {
    public var nodeId: String
    public var productId: String
    public var name: String?
    public var source: ChildSource
    public var file: String
    public var line: Int?
}

/// Loads `edgegw.toml` and the files it names; collects every problem of every file.
public enum ConfigLoader {
    /// - Parameter nbiotDeviceListText: the CSV device list's text to check instead of the file
    ///   `[paths] nbiot_devices` names (`edgegw provision import` checks a merge before writing it).
    public static func load(path: String, nbiotDeviceListText: String? = nil) -> Result<LoadedConfig, ConfigErrors> {
        let diagnostics = ConfigDiagnostics()
        let document: ConfigDocument
        switch TOMLDocumentParser.load(path: path) {
        case .success(let d): document = d
        case .failure(let d): return .failure(ConfigErrors([d]))
        }
        let base = (path as NSString).deletingLastPathComponent
        let root = ConfigReader(document: document, diagnostics: diagnostics)
        let gateway = GatewayConfig.parse(root, baseDirectory: base.isEmpty ? "." : base)
        let modbus = root.table("modbus").map(ModbusSettings.parse) ?? ModbusSettings()
        let lwm2m = LwM2MConfig.parse(root.table("lwm2m"), gateway: gateway, baseDirectory: base.isEmpty ? "." : base)
        root.finish()

        var secret: Secret?
        if let gateway {
            switch SecretFile.read(gateway.gateway.secretFile, keyPath: "gateway.secret_file", configFile: path,
                                   line: document.line(of: "gateway", "secret_file")) {
            case .success(let s): secret = s
            case .failure(let d): diagnostics.report(d)
            }
            if gateway.cloud.tls, let ca = gateway.cloud.caFile, !FileManager.default.isReadableFile(atPath: ca) {
                diagnostics.report(file: path, line: document.line(of: "cloud", "ca_file"), keyPath: "cloud.ca_file",
                                   problem: "CA file \(ca) cannot be read", fix: "install the platform's CA bundle there, or fix the path")
            }
            if gateway.upgrade.verifyTLS, let ca = gateway.upgrade.caFile, ca != gateway.cloud.caFile,
               !FileManager.default.isReadableFile(atPath: ca) {
                diagnostics.report(file: path, line: document.line(of: "upgrade", "ca_file"), keyPath: "upgrade.ca_file",
                                   problem: "CA file \(ca) cannot be read", fix: "install the package servers' CA bundle there, or fix the path")
            }
            checkPaths(gateway, document: document, diagnostics: diagnostics)
        }

        let (products, codecs) = gateway.map { loadProducts(directory: $0.paths.products, diagnostics: diagnostics) } ?? ([:], [:])
        var devices: [FieldDeviceEntry] = []
        var modbusDevices: [ModbusDeviceConfig] = []
        var serialDevices: [SerialDeviceConfig] = []
        if let gateway {
            for (entry, device) in loadDeviceFiles(directory: gateway.paths.devices, products: products, codecs: codecs,
                                                   diagnostics: diagnostics) {
                devices.append(entry)
                switch device {
                case .modbus(let device): modbusDevices.append(device)
                case .serial(let device): serialDevices.append(device)
                }
            }
            ModbusDeviceConfig.validateTogether(modbusDevices, diagnostics: diagnostics)
            SerialDeviceConfig.validateTogether(serialDevices, modbusPorts: modbusSerialLines(modbusDevices), diagnostics: diagnostics)
        }
        var nbiotDevices: [NBIoTDevice] = []
        if let gateway, let list = gateway.paths.nbiotDevices {
            nbiotDevices = loadNBIoTDevices(path: list, secretsFile: lwm2m.pskSecretsFile, products: products, diagnostics: diagnostics,
                                            configFile: path, document: document, text: nbiotDeviceListText)
            // A product with `[upgrade] protocol = "PCP"` makes its devices upgrade-capable over PCP;
            // the device list's `pcp` column still marks a device on its own.
            for index in nbiotDevices.indices where products[nbiotDevices[index].productId]?.upgradeProtocolIsPCP == true {
                nbiotDevices[index].pcpUpgradeCapable = true
            }
            GeneratedConnectionKeys.apply(to: &nbiotDevices, stateDirectory: gateway.store.stateDirectory, configFile: path,
                                          diagnostics: diagnostics)
            devices += nbiotDevices.map {
                FieldDeviceEntry(nodeId: $0.nodeId, productId: $0.productId, name: $0.name, source: .lwm2m, file: list, line: nil)
            }
        }
        checkUniqueNodeIds(devices, diagnostics: diagnostics)
        checkNodeIds(devices, diagnostics: diagnostics)

        guard diagnostics.isEmpty, let gateway, let secret else { return .failure(ConfigErrors(diagnostics.all)) }
        return .success(LoadedConfig(file: path, gateway: gateway, deviceSecret: secret, products: products, codecs: codecs,
                                     devices: devices, modbus: modbus, modbusDevices: modbusDevices, serialDevices: serialDevices,
                                     lwm2m: lwm2m,
                                     nbiotDevices: nbiotDevices))
    }

    /// The NB-IoT device list `path` names (`[paths] nbiot_devices`), read before the rest of
    /// the configuration is checked; nil when it names none or cannot be read.
    public static func nbiotDeviceListPath(configPath path: String) -> String? {
        guard case .success(let document) = TOMLDocumentParser.load(path: path) else { return nil }
        let base = (path as NSString).deletingLastPathComponent
        let root = ConfigReader(document: document, diagnostics: ConfigDiagnostics())
        return GatewayConfig.parse(root, baseDirectory: base.isEmpty ? "." : base)?.paths.nbiotDevices
    }

    /// `*.toml` files of a folder, sorted; none for a missing folder (`checkPaths` reports one the file names).
    static func tomlFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// The parsed `*.toml` files of a folder; a file that does not parse is reported and skipped.
    static func documents(in directory: String, diagnostics: ConfigDiagnostics) -> [ConfigDocument] {
        tomlFiles(in: directory).compactMap { file in
            switch TOMLDocumentParser.load(path: file) {
            case .success(let document): return document
            case .failure(let diagnostic): diagnostics.report(diagnostic); return nil
            }
        }
    }

    static func loadProducts(directory: String, diagnostics: ConfigDiagnostics) -> ([String: ProductModel], [String: ProductCodec]) {
        var products: [String: ProductModel] = [:]
        var codecs: [String: ProductCodec] = [:]
        for document in documents(in: directory, diagnostics: diagnostics) {
            let file = document.file
            let reader = ConfigReader(document: document, diagnostics: diagnostics)
            let product = ProductModel.parse(reader)
            let codec = ProductFileExtensions.parse(reader, product)
            reader.finish()
            guard let product else { continue }
            if let existing = products[product.id] {
                diagnostics.report(file: file, line: reader.line(of: "product"), keyPath: "product.id",
                                   problem: "product \"\(product.id)\" is also defined in \(existing.file)",
                                   fix: "give each product a unique id")
                continue
            }
            products[product.id] = product
            if let codec { codecs[product.id] = codec }
        }
        return (products, codecs)
    }

    static func loadDeviceFiles(directory: String, products: [String: ProductModel], codecs: [String: ProductCodec],
                                diagnostics: ConfigDiagnostics) -> [(FieldDeviceEntry, ParsedDeviceFile)] {
        var entries: [(FieldDeviceEntry, ParsedDeviceFile)] = []
        for document in documents(in: directory, diagnostics: diagnostics) {
            let reader = ConfigReader(document: document, diagnostics: diagnostics)
            if let parsed = DeviceFileParsers.parse(reader, products: products, codecs: codecs) { entries.append(parsed) }
        }
        return entries
    }

    /// The serial ports Modbus RTU devices use, with their line settings.
    static func modbusSerialLines(_ devices: [ModbusDeviceConfig]) -> [String: LineSettings] {
        var lines: [String: LineSettings] = [:]
        for device in devices {
            guard case .rtu(let serial) = device.transport else { continue }
            let parity: LineSettings.Parity = switch serial.parity {
            case .none: .none
            case .even: .even
            case .odd: .odd
            }
            if let line = LineSettings(baud: serial.baud, dataBits: serial.dataBits, parity: parity, stopBits: serial.stopBits) {
                lines[serial.device] = line
            }
        }
        return lines
    }

    /// The NB-IoT device list; a list or secrets file that cannot be read is reported at the key
    /// of `configFile` that names it.
    static func loadNBIoTDevices(path: String, secretsFile: String?, products: [String: ProductModel],
                                 diagnostics: ConfigDiagnostics, configFile: String, document: ConfigDocument,
                                 text override: String? = nil) -> [NBIoTDevice] {
        var secrets: [String: [UInt8]] = [:]
        if let secretsFile {
            switch SecretFile.read(secretsFile, keyPath: "lwm2m.psk_secrets_file", configFile: configFile,
                                   line: document.line(of: "lwm2m", "psk_secrets_file"), maxBytes: NBIoTSecretsFile.maxFileBytes) {
            case .success(let text): secrets = NBIoTSecretsFile.parse(text.value, file: secretsFile, diagnostics: diagnostics)
            case .failure(let diagnostic): diagnostics.report(diagnostic)
            }
        }
        if let override {
            return NBIoTDeviceList.parse(override, file: path, secrets: secrets, knownProducts: Set(products.keys), diagnostics: diagnostics)
        }
        if let reason = FileCheck.unreadableFile(path) {
            diagnostics.report(file: configFile, line: document.line(of: "paths", "nbiot_devices"), keyPath: "paths.nbiot_devices",
                               problem: "the NB-IoT device list \(path) \(reason)",
                               fix: "check the path, or remove nbiot_devices from [paths]")
            return []
        }
        if path.hasSuffix(".toml") {
            switch TOMLDocumentParser.load(path: path) {
            case .success(let document):
                return NBIoTDeviceList.parse(toml: document, secrets: secrets, knownProducts: Set(products.keys), diagnostics: diagnostics)
            case .failure(let diagnostic):
                diagnostics.report(diagnostic)
                return []
            }
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            diagnostics.report(file: configFile, line: document.line(of: "paths", "nbiot_devices"), keyPath: "paths.nbiot_devices",
                               problem: "the NB-IoT device list \(path) cannot be read as UTF-8 text",
                               fix: "check the path, or remove nbiot_devices from [paths]")
            return []
        }
        return NBIoTDeviceList.parse(text, file: path, secrets: secrets, knownProducts: Set(products.keys), diagnostics: diagnostics)
    }

    /// A folder named in `[paths]` must be one `run` can list: a missing default folder means
    /// no such files, but a folder named in the file must exist. The state directory must be a
    /// folder, or one `run` can create.
    static func checkPaths(_ gateway: GatewayConfig, document: ConfigDocument, diagnostics: ConfigDiagnostics) {
        let file = document.file
        for (key, folder) in [("products", gateway.paths.products), ("devices", gateway.paths.devices)] {
            let line = document.line(of: "paths", key)
            guard let problem = FileCheck.folderProblem(folder, mayBeMissing: line == nil) else { continue }
            diagnostics.report(file: file, line: line ?? document.tableLine(of: "paths"), keyPath: "paths.\(key)", problem: problem,
                               fix: "create the folder, or point \(key) at the folder that holds the \(key == "devices" ? "device" : "product") files")
        }
        let state = gateway.store.stateDirectory
        if let problem = FileCheck.stateDirectoryProblem(state) {
            diagnostics.report(file: file, line: document.line(of: "store", "state_directory") ?? document.tableLine(of: "store"),
                               keyPath: "store.state_directory", problem: problem,
                               fix: "point state_directory at a folder; `run` creates a missing one with mode 0700")
        }
    }

    /// The platform names a child `{product_id}_{node_id}`: that name must be a device_id.
    static func checkNodeIds(_ devices: [FieldDeviceEntry], diagnostics: ConfigDiagnostics) {
        for device in devices {
            guard let problem = PlatformIdentifiers.nodeIdProblem(device.nodeId, productId: device.productId) else { continue }
            diagnostics.report(file: device.file, line: device.line, keyPath: device.source == .lwm2m ? "nodeId" : "node_id",
                               problem: problem.problem, fix: problem.fix)
        }
    }

    static func checkUniqueNodeIds(_ devices: [FieldDeviceEntry], diagnostics: ConfigDiagnostics) {
        var seen: [String: FieldDeviceEntry] = [:]
        for device in devices {
            if var first = seen[device.nodeId] {
                // Said at the entry that has a line (a Modbus file, not a CSV row), when one has.
                var second = device
                if second.line == nil, first.line != nil { swap(&first, &second) }
                let at = first.line.map { "\(first.file):\($0)" } ?? first.file
                diagnostics.report(file: second.file, line: second.line, keyPath: "node_id",
                                   problem: "node_id \"\(device.nodeId)\" is already used by a device in \(at)",
                                   fix: "each field device needs its own node_id")
            } else {
                seen[device.nodeId] = device
            }
        }
    }
}
