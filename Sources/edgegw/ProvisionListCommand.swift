import ArgumentParser
import Foundation
import Gateway

/// `edgegw provision list`: each NB-IoT device's key source and provisioning state.
struct ProvisionListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show each NB-IoT device's connection key source and provisioning state (never a key).",
        discussion: """
            One line per device: node id, product, where its connection key comes from (list, secrets file, \
            generated, none yet, NoSec), whether it has a bootstrap entry, and when it last finished bootstrap and \
            registered (UTC), as the daemon recorded them in the state store. Safe while the daemon runs.
            """)

    @Option(name: .shortAndLong, help: "The main configuration file.")
    var config: String = defaultConfigPath

    func run() throws {
        switch NBIoTProvisioning.states(configPath: config) {
        case .failure(let problems):
            problems.printAll()
            throw ExitCode(1)
        case .success(let states):
            let header = ["NODE ID", "PRODUCT", "KEY", "BOOTSTRAP", "STATE"]
            let rows = states.map { [$0.nodeId, $0.productId, $0.keySource.rawValue, $0.bootstrap ? "yes" : "no", $0.stateText] }
            let widths = header.indices.dropLast().map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let padded = row.indices.dropLast().map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                print((padded + [row[row.count - 1]]).joined(separator: "  "))
            }
            print("\(states.count) NB-IoT device(s)")
        }
    }
}
