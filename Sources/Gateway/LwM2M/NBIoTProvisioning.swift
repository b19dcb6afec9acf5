import Config
import Foundation
import GatewayCore
import LwM2M

/// The technician's side of the platform's device lists (`edgegw provision import / export /
/// list`, docs/bootstrap.md): the platform's batch template merged into edgegw's device list,
/// the list written back in the template's form, and each device's provisioning state.
public enum NBIoTProvisioning {
    /// Everything that stopped a command, each with where (file:line), what and how to fix it.
    public struct Problems: Error, Sendable, Equatable {
        public var diagnostics: [ConfigDiagnostic]

        public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }

        init(file: String, _ problem: String, fix: String? = nil) {
            self.init([ConfigDiagnostic(file: file, line: nil, keyPath: "", problem: problem, fix: fix)])
        }
    }

    /// The largest template read (a site's list is far smaller; a bigger file is the wrong one).
    public static let maxTemplateBytes = 16 << 20

    public struct ImportOutcome: Sendable, Equatable {
        public var added: Int
        public var updated: Int
        public var unchanged: Int
        /// The device list written (or that would have been, had anything changed).
        public var listPath: String
        /// Whether the list was written.
        public var written: Bool
    }

    /// Validates the whole template first; with any problem nothing changes. Otherwise merges it
    /// into the CSV device list `[paths] nbiot_devices` names (`NBIoTDeviceListMerge`), checks that
    /// the configuration loads with the result, and replaces the list atomically, keeping its mode
    /// (a new list gets 0600: it holds keys).
    public static func importTemplate(at templatePath: String, configPath: String) -> Result<ImportOutcome, Problems> {
        guard let listPath = ConfigLoader.nbiotDeviceListPath(configPath: configPath) else {
            if case .failure(let errors) = ConfigLoader.load(path: configPath) { return .failure(Problems(errors.diagnostics)) }
            return .failure(Problems(file: configPath, "the configuration names no NB-IoT device list",
                                     fix: "set nbiot_devices in [paths] to the CSV file the devices are to be kept in"))
        }
        if listPath.hasSuffix(".toml") {
            return .failure(Problems(file: listPath, "the NB-IoT device list is in the TOML form; import writes only the CSV form",
                                     fix: "point [paths] nbiot_devices at a .csv list (the same columns), or add the devices to the TOML list by hand"))
        }
        let existing: String?
        switch readText(listPath, what: "the NB-IoT device list") {
        case .success(let text): existing = text
        case .failure(let problems):
            guard !FileManager.default.fileExists(atPath: listPath) else { return .failure(problems) }
            existing = nil
        }
        // A list that does not exist yet is an empty one.
        let emptyList = PlatformDeviceTemplate.columns.joined(separator: ",") + "\n"
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: configPath, nbiotDeviceListText: existing ?? emptyList) {
        case .success(let value): loaded = value
        case .failure(let errors): return .failure(Problems(errors.diagnostics))
        }
        let templateText: String
        switch readText(templatePath, what: "the template") {
        case .success(let text): templateText = text
        case .failure(let problems): return .failure(problems)
        }
        let diagnostics = ConfigDiagnostics()
        let rows = PlatformDeviceTemplate.read(templateText, file: templatePath, knownProducts: Set(loaded.products.keys),
                                               diagnostics: diagnostics)
        guard diagnostics.isEmpty else { return .failure(Problems(diagnostics.all)) }

        let merged = NBIoTDeviceListMerge.merge(rows, into: existing)
        // The list must load as it will be written, with everything else the configuration holds.
        if case .failure(let errors) = ConfigLoader.load(path: configPath, nbiotDeviceListText: merged.text) {
            let note = ConfigDiagnostic(file: templatePath, line: nil, keyPath: "",
                                        problem: "with these rows the device list \(listPath) would not load; it was not changed",
                                        fix: "fix the rows the problems below name (their lines are those of the list after the merge)")
            return .failure(Problems([note] + errors.diagnostics))
        }
        var outcome = ImportOutcome(added: merged.added.count, updated: merged.updated.count, unchanged: merged.unchanged.count,
                                    listPath: listPath, written: false)
        guard merged.text != existing else { return .success(outcome) }
        // A list kept behind a symbolic link stays there: the file it points at is replaced.
        let target = URL(fileURLWithPath: listPath).resolvingSymlinksInPath().path
        do {
            try AtomicFile.replace(target, with: Array(merged.text.utf8), mode: AtomicFile.mode(of: target) ?? 0o600)
        } catch {
            return .failure(Problems([ConfigDiagnostic(file: listPath, line: nil, keyPath: "", problem: error.problem, fix: error.fix)]))
        }
        outcome.written = true
        return .success(outcome)
    }

    /// A text file read whole, up to `maxTemplateBytes`.
    static func readText(_ path: String, what: String) -> Result<String, Problems> {
        if let reason = FileCheck.unreadableFile(path) {
            return .failure(Problems(file: path, "\(what) \(path) \(reason)", fix: "check the path"))
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxTemplateBytes, let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else {
            return .failure(Problems(file: path, "\(what) \(path) is not UTF-8 text of at most \(maxTemplateBytes >> 20) MiB",
                                     fix: "save it as CSV in UTF-8"))
        }
        return .success(text)
    }

    /// The configuration and its device list's rows as written (for export and list).
    static func loadList(configPath: String) -> Result<(LoadedConfig, String, [String: NBIoTDeviceListRow]), Problems> {
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: configPath) {
        case .success(let value): loaded = value
        case .failure(let errors): return .failure(Problems(errors.diagnostics))
        }
        guard let listPath = loaded.gateway.paths.nbiotDevices else {
            return .failure(Problems(file: configPath, "the configuration names no NB-IoT device list",
                                     fix: "set nbiot_devices in [paths]; edgegw provision import fills it from the platform's template"))
        }
        if listPath.hasSuffix(".toml") {
            guard case .success(let document) = TOMLDocumentParser.load(path: listPath) else {
                return .failure(Problems(file: listPath, "cannot be read", fix: "run edgegw check"))
            }
            return .success((loaded, listPath, NBIoTDeviceListRows.read(toml: document)))
        }
        switch readText(listPath, what: "the NB-IoT device list") {
        case .success(let text): return .success((loaded, listPath, NBIoTDeviceListRows.read(text)))
        case .failure(let problems): return .failure(problems)
        }
    }
}
