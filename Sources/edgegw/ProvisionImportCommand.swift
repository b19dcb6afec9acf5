import ArgumentParser
import Foundation
import Gateway

/// `edgegw provision import FILE`: the platform's batch template into edgegw's device list.
struct ProvisionImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Merge the provisioning platform's batch template into the NB-IoT device list.",
        discussion: """
            FILE has the template's columns: nodeId, name, productId, strategyTypeId, funcName, psk (or pk), \
            bootstrapPsk (or bootstrapPk), secure, lifeTime, secret. Every row is checked first; with any problem \
            nothing changes and every problem is listed (file:line). A node id already in the list gets the \
            template's cells and keeps edgegw's own columns; new ones are appended; other lines stay as they are. \
            Keys are read as hex and written to the list as hex:<digits>. The list ([paths] nbiot_devices) must be \
            the CSV form. No key is printed.
            """)

    @Argument(help: "The platform's template (CSV).")
    var file: String

    @Option(name: .shortAndLong, help: "The main configuration file.")
    var config: String = defaultConfigPath

    func run() throws {
        switch NBIoTProvisioning.importTemplate(at: file, configPath: config) {
        case .failure(let problems):
            problems.printAll()
            FileHandle.standardError.write(Data("edgegw provision import: \(problems.diagnostics.count) problem(s); nothing was changed\n".utf8))
            throw ExitCode(1)
        case .success(let outcome):
            let counts = "\(outcome.added) added, \(outcome.updated) updated, \(outcome.unchanged) unchanged"
            print(outcome.written ? "\(counts); written to \(outcome.listPath) (a running edgegw serves it from its next restart)"
                                  : "\(counts); \(outcome.listPath) left as it was")
        }
    }
}
