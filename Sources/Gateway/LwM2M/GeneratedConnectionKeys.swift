import Config
import Foundation
import GatewayCore
import LwM2M

/// The connection PSKs edgegw generates for NB-IoT devices provisioned by bootstrap (a device-list
/// row with a `bootstrapPsk` and no `psk`): kept in `<state_directory>/nbiot-connection-keys`
/// (mode 0600, `Config.ConnectionKeyFile`), taken into the device list when it is loaded.
public enum GeneratedConnectionKeys {
    public static let fileName = "nbiot-connection-keys"

    public static func path(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(fileName)
    }

    /// Gives each device that waits for a generated key the one the key file holds for it.
    static func apply(to devices: inout [NBIoTDevice], stateDirectory: String, configFile: String,
                      diagnostics: ConfigDiagnostics) {
        guard devices.contains(where: \.needsGeneratedKey) else { return }
        let file = path(stateDirectory: stateDirectory)
        let keys: [String: [UInt8]]
        do { keys = try ConnectionKeyFile.load(file) } catch {
            diagnostics.report(file: file, line: nil, keyPath: "store.state_directory", problem: error.problem, fix: error.fix)
            return
        }
        for index in devices.indices where devices[index].needsGeneratedKey {
            if let key = keys[devices[index].nodeId] { devices[index].psk = key }
        }
    }

    public struct Outcome: Equatable, Sendable {
        public var generated: Int
        public var alreadyHeld: Int
        public var file: String
    }

    /// A new key for every device that waits for one and has none yet; the file is replaced
    /// atomically. Keys of devices no longer in the list are kept (a device may come back).
    public static func generateMissing(for devices: [NBIoTDevice], stateDirectory: String) throws(SecretFile.Problem) -> Outcome {
        let file = path(stateDirectory: stateDirectory)
        var keys = try ConnectionKeyFile.load(file)
        var generated = 0
        var held = 0
        // Devices whose list row gives a psk keep it; the others provisioned by bootstrap get one.
        for device in devices where device.secure && !device.bootstrapPSK.isEmpty {
            if let key = keys[device.nodeId], device.psk.isEmpty || device.psk == key {
                held += 1
            } else if device.psk.isEmpty {
                keys[device.nodeId] = ConnectionKeyFile.generateKey()
                generated += 1
            }
        }
        if generated > 0 {
            try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            try ConnectionKeyFile.save(keys, to: file)
        }
        return Outcome(generated: generated, alreadyHeld: held, file: file)
    }

    /// The connection key of a device provisioned by bootstrap: the one stored for it, or a new
    /// one stored first (the file is replaced atomically before the key is handed out).
    public static func ensureKey(for device: NBIoTDevice, stateDirectory: String) throws(SecretFile.Problem) -> [UInt8] {
        let file = path(stateDirectory: stateDirectory)
        var keys = try ConnectionKeyFile.load(file)
        if let key = keys[device.nodeId] { return key }
        let key = ConnectionKeyFile.generateKey()
        keys[device.nodeId] = key
        try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        try ConnectionKeyFile.save(keys, to: file)
        return key
    }
}
