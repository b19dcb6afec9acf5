import ArgumentParser
import Foundation
import Gateway

/// `edgegw provision export`: the device list in the platform's template form, for registering
/// the same devices in the cloud.
struct ProvisionExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the NB-IoT devices in the platform's template columns, with their keys.",
        discussion: """
            With --output FILE, FILE (mode 0600, replaced atomically) holds every device with psk (its connection \
            key: the list's, the secrets file's or the generated one) and bootstrapPsk as hex, and secret. Without \
            it, the same table goes to stdout with those columns empty.
            """)

    @Option(name: .shortAndLong, help: "The file to write, with the keys (mode 0600).")
    var output: String?

    @Option(name: .shortAndLong, help: "The main configuration file.")
    var config: String = defaultConfigPath

    func run() throws {
        guard let output else {
            switch NBIoTProvisioning.templateText(configPath: config, keys: false) {
            case .failure(let problems):
                problems.printAll()
                throw ExitCode(1)
            case .success(let template):
                print(template.text, terminator: "")
                FileHandle.standardError.write(Data("psk, bootstrapPsk and secret are left empty: keys are only written with --output FILE (mode 0600)\n".utf8))
            }
            return
        }
        switch NBIoTProvisioning.export(configPath: config, to: output) {
        case .failure(let problems):
            problems.printAll()
            FileHandle.standardError.write(Data("edgegw provision export: \(problems.diagnostics.count) problem(s); nothing was written\n".utf8))
            throw ExitCode(1)
        case .success(let devices):
            print("\(devices) device(s) written to \(output) (mode 0600: it holds their keys)")
        }
    }
}
