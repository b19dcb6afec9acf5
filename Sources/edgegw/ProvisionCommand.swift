import ArgumentParser
import Foundation
import Gateway

/// NB-IoT provisioning for the technician (docs/bootstrap.md): the platform's batch template in
/// and out of edgegw's device list, each device's state, connection keys for the modules
/// provisioned by bootstrap.
struct ProvisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Provision NB-IoT modules: the platform's device lists, connection keys for those that bootstrap.",
        subcommands: [ProvisionImportCommand.self, ProvisionExportCommand.self, ProvisionListCommand.self, Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Generate a connection PSK for every NB-IoT device with a bootstrapPsk and no psk.",
            discussion: """
                16 random bytes each, from the system's CSPRNG, kept in <state_directory>/\(GeneratedConnectionKeys.fileName) \
                (mode 0600, replaced atomically). Devices that already have one keep it. No key is printed.
                """)

        @Option(name: .shortAndLong, help: "The main configuration file.")
        var config: String = defaultConfigPath

        func run() throws {
            let loaded: LoadedConfig
            switch ConfigLoader.load(path: config) {
            case .success(let value): loaded = value
            case .failure(let errors):
                for diagnostic in errors.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
                throw ExitCode(1)
            }
            do {
                let outcome = try GeneratedConnectionKeys.generateMissing(for: loaded.nbiotDevices,
                                                                          stateDirectory: loaded.gateway.store.stateDirectory)
                print("\(outcome.generated) connection key(s) generated, \(outcome.alreadyHeld) kept; in \(outcome.file) (mode 0600)")
            } catch {
                FileHandle.standardError.write(Data("edgegw provision generate: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

extension NBIoTProvisioning.Problems {
    /// Every problem on stderr, one a line (file:line: column: what (fix: how)).
    func printAll() {
        for diagnostic in diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
    }
}
