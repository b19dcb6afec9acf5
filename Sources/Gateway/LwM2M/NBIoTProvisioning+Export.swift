import Bootstrap
import Config
import Foundation
import GatewayCore
import LwM2M
import Store

/// `edgegw provision export` and `list`.
extension NBIoTProvisioning {
    /// Every NB-IoT device of the list in the template's form, in the list's order. With `keys`,
    /// psk is the device's connection key (the list's, the secrets file's or the generated one)
    /// and bootstrapPsk its bootstrap key, as lowercase hex; a key that has no such form (4-16
    /// bytes) is a problem at its row. Without, psk, bootstrapPsk and secret stay empty.
    public static func templateRows(configPath: String, keys: Bool) -> Result<[PlatformDeviceRow], Problems> {
        let loaded: LoadedConfig, listPath: String, written: [String: NBIoTDeviceListRow]
        switch loadList(configPath: configPath) {
        case .success(let value): (loaded, listPath, written) = value
        case .failure(let problems): return .failure(problems)
        }
        var rows: [PlatformDeviceRow] = []
        var problems: [ConfigDiagnostic] = []
        for device in loaded.nbiotDevices {
            let row = written[device.nodeId] ?? NBIoTDeviceListRow(line: 0, cells: [:])
            var cells = row.cells
            cells["nodeId"] = device.nodeId
            cells["productId"] = device.productId
            cells["psk"] = ""
            cells["bootstrapPsk"] = ""
            if keys {
                for (column, key) in [("psk", device.psk), ("bootstrapPsk", device.bootstrapPSK)] where !key.isEmpty {
                    if let text = PlatformDeviceTemplate.keyText(key) {
                        cells[column] = text
                    } else {
                        let digits = PlatformDeviceTemplate.pskHexDigits
                        problems.append(ConfigDiagnostic(
                            file: listPath, line: row.line == 0 ? nil : row.line, keyPath: column,
                            problem: "the key of \(device.nodeId) is \(key.count) bytes: the template takes \(digits.lowerBound)-\(digits.upperBound) hex digits (\(digits.lowerBound / 2)-\(digits.upperBound / 2) bytes)",
                            fix: "give the device a key of \(digits.lowerBound / 2)-\(digits.upperBound / 2) bytes, or register it on the platform by hand"))
                    }
                }
            } else {
                cells["secret"] = ""
            }
            rows.append(PlatformDeviceRow(line: row.line, cells: cells))
        }
        guard problems.isEmpty else { return .failure(Problems(problems)) }
        return .success(rows)
    }

    /// The template's text (`templateRows`), with the keys or without, and the number of devices.
    public static func templateText(configPath: String, keys: Bool) -> Result<(text: String, devices: Int), Problems> {
        templateRows(configPath: configPath, keys: keys).map { (PlatformDeviceTemplate.render($0), $0.count) }
    }

    /// Writes the template with the keys to `output`, mode 0600 from its creation on (a
    /// temporary file created 0600, fsynced, renamed). Returns the number of devices.
    public static func export(configPath: String, to output: String) -> Result<Int, Problems> {
        switch templateText(configPath: configPath, keys: true) {
        case .failure(let problems): return .failure(problems)
        case .success(let template):
            do {
                try AtomicFile.replace(output, with: Array(template.text.utf8), mode: 0o600)
            } catch {
                return .failure(Problems([ConfigDiagnostic(file: output, line: nil, keyPath: "", problem: error.problem, fix: error.fix)]))
            }
            return .success(template.devices)
        }
    }

    /// One NB-IoT device's provisioning, as `edgegw provision list` shows it (never a key).
    public struct DeviceState: Sendable, Equatable {
        /// Where its connection key comes from.
        public enum KeySource: String, Sendable {
            case list
            case secretsFile = "secrets file"
            case generated
            case noneYet = "none yet"
            /// A NoSec device needs none.
            case notSecure = "NoSec"
        }

        public var nodeId: String
        public var productId: String
        public var keySource: KeySource
        /// Whether the device has a bootstrap key (an entry for the bootstrap server).
        public var bootstrap: Bool
        public var bootstrappedAt: Date?
        public var registeredAt: Date?
        public var bootstrapLoopAt: Date?
        public var bootstrapLoopCount: Int?

        /// "registered at …", "bootstrapped at …", "never bootstrapped" (or "never registered"
        /// for a device that does not bootstrap); times in UTC. The last bootstrap loop found is
        /// said first when no registration came after it (the device is not getting through),
        /// last otherwise.
        public var stateText: String {
            let formatter = ISO8601DateFormatter()
            let registration = registrationText(formatter)
            guard let loopAt = bootstrapLoopAt else { return registration }
            let loop = "bootstrap loop at \(formatter.string(from: loopAt)) (\(bootstrapLoopCount ?? 0) bootstraps in "
                + "\(BootstrapLoopDetector<GatewayClock>.defaultWindow.components.seconds / 60) min)"
            return registeredAt.map { $0 < loopAt } ?? true ? "\(loop); \(registration)" : "\(registration); last \(loop)"
        }

        private func registrationText(_ formatter: ISO8601DateFormatter) -> String {
            switch (registeredAt, bootstrappedAt) {
            case (let registered?, let bootstrapped?):
                return "registered at \(formatter.string(from: registered)) (bootstrapped at \(formatter.string(from: bootstrapped)))"
            case (let registered?, nil): return "registered at \(formatter.string(from: registered))"
            case (nil, let bootstrapped?): return "bootstrapped at \(formatter.string(from: bootstrapped))"
            case (nil, nil): return bootstrap ? "never bootstrapped" : "never registered"
            }
        }
    }

    /// Every NB-IoT device's key source and provisioning state, in the list's order. The state
    /// store is only read (`StateStore.provisioningRecords(directory:)`): a running daemon is
    /// not disturbed.
    public static func states(configPath: String) -> Result<[DeviceState], Problems> {
        let loaded: LoadedConfig, written: [String: NBIoTDeviceListRow]
        switch loadList(configPath: configPath) {
        case .success(let value): (loaded, _, written) = value
        case .failure(let problems): return .failure(problems)
        }
        let stateDirectory = loaded.gateway.store.stateDirectory
        let generated = (try? ConnectionKeyFile.load(GeneratedConnectionKeys.path(stateDirectory: stateDirectory))) ?? [:]
        let records: [String: ProvisioningRecord]
        do { records = try StateStore.provisioningRecords(directory: stateDirectory) } catch {
            return .failure(Problems(file: stateDirectory, error.description, fix: "check the state directory's permissions"))
        }
        return .success(loaded.nbiotDevices.map { device in
            let source: DeviceState.KeySource
            if !(written[device.nodeId]?["psk"] ?? "").isEmpty {
                source = .list
            } else if device.psk.isEmpty {
                source = device.secure ? .noneYet : .notSecure
            } else if !device.bootstrapPSK.isEmpty && generated[device.nodeId] == device.psk {
                source = .generated
            } else {
                source = .secretsFile
            }
            let record = records[device.nodeId]
            return DeviceState(nodeId: device.nodeId, productId: device.productId, keySource: source, bootstrap: !device.bootstrapPSK.isEmpty,
                               bootstrappedAt: record?.bootstrappedAt, registeredAt: record?.registeredAt,
                               bootstrapLoopAt: record?.bootstrapLoopAt, bootstrapLoopCount: record?.bootstrapLoopCount)
        })
    }
}
